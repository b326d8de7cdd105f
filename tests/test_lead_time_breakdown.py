"""Lead-time breakdown (docs/metrics.md): coding, pickup, review, deploy wait, from literal events."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from tools import cdevents as c
from metrics.build import MetricSettings
from metrics.export import Filters, query_table


def pr(n, merged, repo="acme/payments", **kw):
    return c.merged(id=f"m{n}", at=merged, change=f"{repo}#{n}", repository=repo, **kw)


def dep(id, at, changes, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, changes=changes, **kw)


def stages(wh, environment="production"):
    return wh.rows(
        """SELECT change_id, coding_hours, pickup_hours, review_hours, deploy_wait_hours
           FROM fct_change_stages WHERE environment = ? ORDER BY change_id""", [environment])


def breakdown(wh, grain="month", service="all", environment="production"):
    """{(period_start, stage): (changes, missing, negative, median, p75, p90, mean)}."""
    rows = wh.rows(
        """SELECT period_start::VARCHAR, stage, changes, missing, negative, median_hours, p75_hours, p90_hours,
                  mean_hours
           FROM metric_lead_time_breakdown WHERE grain = ? AND service = ? AND environment = ?
           ORDER BY period_start, stage_order""", [grain, service, environment])
    return {(r[0], r[1]): r[2:] for r in rows}


def test_a_change_with_every_timestamp_splits_into_four_consecutive_stages(wh):
    wh.load([
        pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-02T08:00:00Z", opened_at="2026-03-02T10:00:00Z",
           first_review_at="2026-03-02T13:00:00Z"),
        dep("d1", "2026-03-03T12:30:00Z", ["acme/payments#1"]),
    ])
    assert stages(wh) == [("acme/payments#1", 2.0, 3.0, 21.0, 2.5)]
    # the stages add up to the change's lead time
    assert wh.one("SELECT lead_time_hours FROM fct_lead_times") == 28.5
    got = breakdown(wh)
    assert [k[1] for k in got] == ["coding", "pickup", "review", "deploy_wait"]
    assert got[("2026-03-01", "review")] == (1, 0, 0, 21.0, 21.0, 21.0, 21.0)


def test_a_change_missing_a_timestamp_counts_only_in_the_stages_it_has(wh):
    wh.load([
        # no first review: no pickup, no review; coding and deploy wait still count
        pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-03T06:00:00Z", opened_at="2026-03-03T07:00:00Z"),
        # nothing but the merge: only deploy wait
        pr(2, "2026-03-03T11:00:00Z"),
        dep("d1", "2026-03-03T12:00:00Z", ["acme/payments#1", "acme/payments#2"]),
    ])
    assert stages(wh) == [("acme/payments#1", 1.0, None, None, 2.0), ("acme/payments#2", None, None, None, 1.0)]
    got = breakdown(wh)
    assert got[("2026-03-01", "coding")][:3] == (1, 1, 0)
    assert got[("2026-03-01", "pickup")] == (0, 2, 0, None, None, None, None)
    assert got[("2026-03-01", "deploy_wait")] == (2, 0, 0, 1.5, 1.75, 1.9, 1.5)
    assert wh.rows("SELECT entity_id, detail FROM dq_findings WHERE finding = 'span_missing' ORDER BY 1") == [
        ("acme/payments#1", "no first_review_at: counts only in the breakdown stages it has"),
        ("acme/payments#2", "no first_commit_at, opened_at, first_review_at: counts only in the breakdown stages it has"),
    ]


def test_a_negative_span_is_left_out_and_reported_never_zeroed(wh):
    wh.load([
        # reviewed 2 h before it was opened: pickup is -2 h
        pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-03T05:00:00Z", opened_at="2026-03-03T08:00:00Z",
           first_review_at="2026-03-03T06:00:00Z"),
        pr(2, "2026-03-03T10:00:00Z", first_commit_at="2026-03-03T05:00:00Z", opened_at="2026-03-03T06:00:00Z",
           first_review_at="2026-03-03T07:00:00Z"),
        dep("d1", "2026-03-03T11:00:00Z", ["acme/payments#1", "acme/payments#2"]),
    ])
    assert stages(wh)[0] == ("acme/payments#1", 3.0, -2.0, 4.0, 1.0)
    got = breakdown(wh)
    # pickup: only #2's 1 h; the -2 h is neither averaged in nor counted as 0
    assert got[("2026-03-01", "pickup")] == (1, 0, 1, 1.0, 1.0, 1.0, 1.0)
    assert got[("2026-03-01", "review")][:4] == (2, 0, 0, 3.5)
    assert wh.rows("SELECT entity_id, detail FROM dq_findings WHERE finding = 'negative_span'") == [
        ("acme/payments#1", "first review 2.0 h before it was opened: left out of those stages")]


def test_statistics_are_interpolated_like_lead_time(wh):
    coding = [1, 2, 3, 10]  # hours from first commit to opening (12:00)
    events = [pr(n, "2026-03-03T13:00:00Z", opened_at="2026-03-03T12:00:00Z",
                 first_commit_at=f"2026-03-03T{12 - h:02d}:00:00Z") for n, h in enumerate(coding, 1)]
    events.append(dep("d1", "2026-03-03T14:00:00Z", [f"acme/payments#{n}" for n in range(1, 5)]))
    wh.load(events)
    changes, missing, negative, median, p75, p90, mean = breakdown(wh)[("2026-03-01", "coding")]
    assert (changes, missing, negative) == (4, 0, 0)
    assert (median, p75, p90, mean) == pytest.approx((2.5, 4.75, 7.9, 4.0))
    assert (median, p75, p90) == pytest.approx(tuple(np.quantile(coding, [0.5, 0.75, 0.9])))


def test_periods_follow_the_delivery_in_the_configured_time_zone(wh):
    events = [
        pr(1, "2026-02-28T20:00:00Z", opened_at="2026-02-28T18:00:00Z", first_review_at="2026-02-28T19:00:00Z"),
        # 02:00 UTC on 1 March is still 28 February in New York
        dep("d1", "2026-03-01T02:00:00Z", ["acme/payments#1"]),
    ]
    wh.load(events)
    assert list(breakdown(wh))[0][0] == "2026-03-01"
    wh.load([], settings=MetricSettings(timezone="America/New_York"))
    assert list(breakdown(wh))[0][0] == "2026-02-01"


def test_each_environment_has_its_own_deploy_wait_and_services_roll_up_to_all(wh):
    wh.load([
        pr(1, "2026-03-03T10:00:00Z"),
        pr(2, "2026-03-03T10:00:00Z", repo="acme/search"),
        dep("s1", "2026-03-03T11:00:00Z", ["acme/payments#1"], environment="staging"),
        dep("d1", "2026-03-03T14:00:00Z", ["acme/payments#1"]),
        dep("d2", "2026-03-03T12:00:00Z", ["acme/search#2"], service="search"),
    ])
    assert stages(wh, "staging") == [("acme/payments#1", None, None, None, 1.0)]
    assert breakdown(wh, service="payments")[("2026-03-01", "deploy_wait")][3] == 4.0
    assert breakdown(wh, service="search")[("2026-03-01", "deploy_wait")][3] == 2.0
    assert breakdown(wh)[("2026-03-01", "deploy_wait")][:4] == (2, 0, 0, 3.0)


def test_export_fills_empty_periods_and_puts_the_stages_side_by_side(wh):
    wh.load([
        pr(1, "2026-01-05T10:00:00Z", first_commit_at="2026-01-05T07:00:00Z", opened_at="2026-01-05T08:00:00Z",
           first_review_at="2026-01-05T09:00:00Z"),
        dep("d1", "2026-01-05T12:00:00Z", ["acme/payments#1"]),
        pr(2, "2026-03-05T10:00:00Z"),
        dep("d2", "2026-03-05T11:00:00Z", ["acme/payments#2"]),
    ])
    frame = query_table(wh.con, "lead-time-breakdown", Filters(grain="month"), MetricSettings())
    rows = frame[["period_start", "service", "changes_deployed", "lead_time_median_hours", "coding_changes",
                  "coding_median_hours", "review_median_hours", "deploy_wait_median_hours", "spans_missing",
                  "definitions_version"]].astype(object).where(frame.notna(), None).values.tolist()
    assert [[str(r[0].date()), *r[1:]] for r in rows] == [
        ["2026-01-01", "all", 1, 5.0, 1, 1.0, 1.0, 2.0, 0, "2"],
        ["2026-02-01", "all", 0, None, 0, None, None, None, 0, "2"],
        ["2026-03-01", "all", 1, 1.0, 0, None, None, 1.0, 3, "2"],
    ]
