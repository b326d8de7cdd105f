"""Batch size and risk (docs/metrics.md): buckets by changes, lines and cadence, from literal events."""
from __future__ import annotations

import pytest

from tools import cdevents as c
from core.errors import DoraError
from metrics.build import MetricSettings
from metrics.export import Filters, query_table


def pr(n, merged="2026-03-02T08:00:00Z", additions=None, deletions=None, repo="acme/payments", **kw):
    return c.merged(id=f"m-{repo}-{n}", at=merged, change=f"{repo}#{n}", repository=repo,
                    additions=additions, deletions=deletions, **kw)


def dep(id, at, changes=None, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, changes=changes, **kw)


def ids(*numbers, repo="acme/payments"):
    return [f"{repo}#{n}" for n in numbers]


def batches(wh):
    return wh.rows("""SELECT deployment_id, changes, lines_changed, change_bucket, lines_bucket
                      FROM fct_deployment_batches ORDER BY finished_at""")


def buckets(wh, dimension, grain="month", service="all"):
    """[(bucket, deployments, failed, change_failure_rate)] in bucket order, for the first period."""
    return wh.rows(
        """SELECT bucket, deployments, failed_deployments, change_failure_rate FROM metric_batch_size
           WHERE grain = ? AND service = ? AND environment = 'production' AND dimension = ?
             AND period_start = (SELECT min(period_start) FROM metric_batch_size WHERE grain = ?)
           ORDER BY bucket_order""", [grain, service, dimension, grain])


def test_changes_and_lines_per_deployment_and_their_buckets_at_every_boundary(wh):
    prs = [pr(1, additions=60, deletions=39),                       # 99 lines
           pr(2, additions=100, deletions=0),                       # 100
           pr(3, additions=399, deletions=0),                       # 399
           pr(4, additions=1000, deletions=1000),                   # 2000
           pr(5, additions=10)]                                     # deletions unknown
    prs += [pr(n, additions=1, deletions=0) for n in range(10, 31)]  # 21 one-line changes
    wh.load(prs + [
        dep("d1", "2026-03-02T10:00:00Z", ids(1)),
        dep("d2", "2026-03-02T11:00:00Z", ids(2)),
        dep("d3", "2026-03-02T12:00:00Z", ids(3)),
        dep("d4", "2026-03-02T13:00:00Z", ids(4)),
        dep("d5", "2026-03-02T14:00:00Z", ids(5, 10)),              # a change without deletions
        dep("d6", "2026-03-02T15:00:00Z", ids(11, 12, 13, 14, 15)),
        dep("d7", "2026-03-02T16:00:00Z", ids(*range(16, 22))),     # 6 changes
        dep("d8", "2026-03-02T17:00:00Z", ids(*range(16, 31))),     # 15, re-listing d7's six
        dep("d9", "2026-03-02T18:00:00Z", ids(*range(10, 26))),     # 16
        dep("d10", "2026-03-02T19:00:00Z", ids(99)),                # a change never reported merged
        dep("d11", "2026-03-02T20:00:00Z", []),                     # an empty list: no change
    ])
    assert batches(wh) == [
        ("d1", 1, 99, "1", "<100"),
        ("d2", 1, 100, "1", "100–400"),
        ("d3", 1, 399, "1", "100–400"),
        ("d4", 1, 2000, "1", "2000+"),
        ("d5", 2, None, "2–5", "unknown"),
        ("d6", 5, 5, "2–5", "<100"),
        ("d7", 6, 6, "6–15", "<100"),
        ("d8", 15, 15, "6–15", "<100"),
        ("d9", 16, 16, "16+", "<100"),
        ("d10", 1, None, "1", "unknown"),
        ("d11", 0, 0, "none", "none"),
    ]


def test_a_deployment_without_linked_changes_is_its_own_bucket_and_a_finding(wh):
    wh.load([
        pr(1, "2026-03-02T08:00:00Z", additions=5, deletions=5),
        # the service's first deployment without a list ships nothing by the merge-window rule
        dep("d1", "2026-03-02T10:00:00Z", repository="acme/payments"),
        dep("d2", "2026-03-03T10:00:00Z", repository="acme/payments"),
    ])
    assert batches(wh) == [("d1", 0, 0, "none", "none"), ("d2", 0, 0, "none", "none")]
    assert buckets(wh, "changes") == [("none", 2, 0, 0.0), ("1", 0, 0, None), ("2–5", 0, 0, None),
                                      ("6–15", 0, 0, None), ("16+", 0, 0, None)]
    assert wh.rows("SELECT entity_id, detail FROM dq_findings WHERE finding = 'deployment_without_changes' ORDER BY 1") == [
        ("d1", "first deployment of payments seen: without a changes list it ships nothing"),
        ("d2", "no change of acme/payments merged since the previous deployment (d1)"),
    ]


def test_cadence_counts_the_services_deploys_in_its_iso_week_in_the_time_zone(wh):
    events = [dep(f"w1-{i}", f"2026-03-0{2 + i}T10:00:00Z") for i in range(3)]   # Mon–Wed: 3 that week
    events += [dep("sun", "2026-03-08T23:30:00Z"),                               # Sunday night UTC
               dep("mon", "2026-03-09T00:30:00Z"),                               # Monday: next week
               dep("other", "2026-03-03T11:00:00Z", service="search")]           # another service
    wh.load(events)
    got = wh.rows("SELECT deployment_id, deploys_that_week, cadence_bucket FROM fct_deployment_batches ORDER BY finished_at")
    assert got == [("w1-0", 4, "2–7"), ("w1-1", 4, "2–7"), ("other", 1, "1"), ("w1-2", 4, "2–7"),
                   ("sun", 4, "2–7"), ("mon", 1, "1")]
    # in Berlin (UTC+1) Sunday 23:30 UTC is already Monday: it joins the next week
    wh.load([], settings=MetricSettings(timezone="Europe/Berlin"))
    got = dict(wh.rows("SELECT deployment_id, deploys_that_week FROM fct_deployment_batches"))
    assert (got["w1-0"], got["sun"], got["mon"]) == (3, 2, 2)


def test_cadence_buckets_at_their_boundaries(wh):
    # 8 deploys in one week for payments, 36 for search (five a day Mon–Sun, plus one)
    events = [dep(f"p{i}", f"2026-03-02T{8 + i:02d}:00:00Z") for i in range(8)]
    events += [dep(f"s{i}", f"2026-03-{2 + i // 6:02d}T{8 + i % 6:02d}:00:00Z", service="search") for i in range(36)]
    wh.load(events)
    got = wh.rows("SELECT service, cadence_bucket, count(*) FROM fct_deployment_batches GROUP BY ALL ORDER BY 1")
    assert got == [("payments", "8–35", 8), ("search", "36+", 36)]


def test_fail_rate_recovery_and_lead_time_by_bucket_with_empty_buckets_kept(wh):
    wh.load([
        pr(1, "2026-03-02T08:00:00Z", additions=10, deletions=0),
        pr(2, "2026-03-02T08:00:00Z", additions=10, deletions=0),
        pr(3, "2026-03-02T09:00:00Z", additions=10, deletions=0),
        pr(4, "2026-03-02T09:00:00Z", additions=500, deletions=0),
        dep("d1", "2026-03-02T10:00:00Z", ids(1)),                 # 1 change, fine
        dep("d2", "2026-03-02T12:00:00Z", ids(2, 3)),              # 2 changes, rolled back after 30 min
        c.rolledback(id="rb", at="2026-03-02T12:30:00Z", service="payments", rolled_back_deployment="d2"),
        dep("d3", "2026-03-02T13:00:00Z", ids(4)),                 # 1 change, 500 lines, fine
    ])
    assert buckets(wh, "changes") == [("none", 0, 0, None), ("1", 2, 0, 0.0), ("2–5", 1, 1, 1.0),
                                      ("6–15", 0, 0, None), ("16+", 0, 0, None)]
    assert buckets(wh, "lines") == [("none", 0, 0, None), ("unknown", 0, 0, None), ("<100", 2, 1, 0.5),
                                    ("100–400", 0, 0, None), ("400–2000", 1, 0, 0.0), ("2000+", 0, 0, None)]
    assert buckets(wh, "cadence") == [("1", 0, 0, None), ("2–7", 3, 1, 1 / 3), ("8–35", 0, 0, None),
                                      ("36+", 0, 0, None)]
    row = wh.rows(
        """SELECT deployments, share_of_deployments, failed_deployment_recoveries,
                  failed_deployment_recovery_median_minutes, changes_deployed, lead_time_median_hours,
                  changes_per_deployment_median, lines_per_deployment_median
           FROM metric_batch_size WHERE grain = 'month' AND service = 'all' AND dimension = 'changes' AND bucket = '2–5'""")
    # lead times of #2 (4 h) and #3 (3 h), shipped by d2; batch medians only on the period's 'all' row
    assert row == [(1, 1 / 3, 1, 30.0, 2, 3.5, None, None)]
    overall = wh.rows(
        """SELECT deployments, change_failure_rate, changes_deployed, lead_time_median_hours,
                  changes_per_deployment_median, lines_per_deployment_median
           FROM metric_batch_size WHERE grain = 'month' AND service = 'all' AND dimension = 'all'""")
    assert overall == [(3, 1 / 3, 4, 3.5, 1.0, 20.0)]


def test_a_change_listed_twice_counts_in_both_batches_but_its_lead_time_only_at_the_first(wh):
    wh.load([
        pr(1, "2026-03-02T08:00:00Z", additions=1, deletions=1),
        dep("d1", "2026-03-02T10:00:00Z", ids(1)),
        dep("d2", "2026-03-02T12:00:00Z", ids(1)),
    ])
    assert [b[:2] for b in batches(wh)] == [("d1", 1), ("d2", 1)]
    assert wh.rows("""SELECT bucket, deployments, changes_deployed FROM metric_batch_size
                      WHERE grain = 'week' AND service = 'all' AND dimension = 'changes' AND bucket = '1'""") == [
        ("1", 2, 1)]


def test_batch_size_export_lists_every_bucket_in_order(wh):
    wh.load([pr(1, additions=1, deletions=1), dep("d1", "2026-03-02T10:00:00Z", ids(1))])
    frame = query_table(wh.con, "batch-size", Filters(grain="month"), MetricSettings())
    assert list(zip(frame["dimension"], frame["bucket"], frame["deployments"])) == [
        ("all", "all", 1),
        ("changes", "none", 0), ("changes", "1", 1), ("changes", "2–5", 0), ("changes", "6–15", 0),
        ("changes", "16+", 0),
        ("lines", "none", 0), ("lines", "unknown", 0), ("lines", "<100", 1), ("lines", "100–400", 0),
        ("lines", "400–2000", 0), ("lines", "2000+", 0),
        ("cadence", "1", 1), ("cadence", "2–7", 0), ("cadence", "8–35", 0), ("cadence", "36+", 0),
    ]
    assert set(frame["definitions_version"]) == {"2"} and set(frame["environment"]) == {"production"}


def test_batch_size_is_weekly_or_longer_and_production_only(wh):
    wh.load([pr(1, additions=1, deletions=1), dep("d1", "2026-03-02T10:00:00Z", ids(1)),
             dep("s1", "2026-03-02T09:00:00Z", ids(1), environment="staging")])
    assert wh.rows("SELECT DISTINCT grain, environment FROM metric_batch_size ORDER BY 1") == [
        ("month", "production"), ("quarter", "production"), ("week", "production")]
    with pytest.raises(DoraError, match="per week, month or quarter"):
        query_table(wh.con, "batch-size", Filters(grain="day"), MetricSettings())
    with pytest.raises(DoraError, match="production only"):
        query_table(wh.con, "batch-size", Filters(grain="week", environment="staging"), MetricSettings())
