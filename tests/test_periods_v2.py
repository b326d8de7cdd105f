"""Definitions version 2 (contract §2, §4): coverage and observed days, the empty scope, lead time's
start, and the version every export row names — literal events in, exact figures out."""
from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import Warehouse
from tools import cdevents as c
from metrics.build import DEFINITIONS_VERSION, MetricSettings, build_metrics, ensure_built, is_current
from metrics.explain import compute_figure, explain_figure
from metrics.export import REQUIRED_COLUMNS, TABLES, Filters, describe_empty_scope, query_summary, query_table


def dep(id, at, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, **kw)


def pr(n, merged, repo="acme/payments", **kw):
    return c.merged(id=f"m{n}", at=merged, change=f"{repo}#{n}", repository=repo, **kw)


def periods(wh, grain, service="all", environment="production"):
    """[(period_start, days, observed_days, deployments, deploys_per_day)] of metric_periods."""
    return wh.rows(
        """SELECT period_start::VARCHAR, days, observed_days, deployments, deploys_per_day FROM metric_periods
           WHERE grain = ? AND service = ? AND environment = ? ORDER BY period_start""",
        [grain, service, environment])


def summary(wh, **filters):
    """[(period_start, deployments, deploys_per_day, observed_days)] of the summary export."""
    frame = query_summary(wh.con, Filters(**filters), wh.settings)
    return [(r.period_start.date().isoformat(), r.deployments, r.deploys_per_day, r.observed_days)
            for r in frame.itertuples()]


# --- coverage and observed days ------------------------------------------------------------------

def test_a_quarter_in_progress_divides_by_its_observed_days(wh):
    # the data covers 2026-07-01 .. 2026-08-30: 61 of the quarter's 92 days (v1: 3 / 92)
    wh.load([dep("a", "2026-07-01T09:00:00Z"), dep("b", "2026-08-10T09:00:00Z"), dep("c", "2026-08-30T18:00:00Z")])
    assert periods(wh, "quarter") == [("2026-07-01", 92, 61, 3, 3 / 61)]
    assert summary(wh, grain="quarter") == [("2026-07-01", 3, 0.04918, 61)]
    # the month in progress: 30 of August's 31 days
    assert periods(wh, "month") == [("2026-07-01", 31, 31, 1, 1 / 31), ("2026-08-01", 31, 30, 2, 2 / 30)]


def test_the_first_partly_covered_period_divides_by_its_observed_days(wh):
    # coverage starts with a merge on Friday 2026-03-20 and ends on 2026-04-02
    wh.load([pr(1, "2026-03-20T10:00:00Z")]
            + [dep(f"d{n}", f"2026-03-25T{9 + n:02d}:00:00Z") for n in range(6)]
            + [dep("e", "2026-04-02T10:00:00Z")])
    assert summary(wh, grain="month") == [("2026-03-01", 6, 0.5, 12), ("2026-04-01", 1, 0.5, 2)]
    # the week of the first merge has no deployment: observed (Friday to Sunday), with 0 per day
    assert summary(wh, grain="week") == [("2026-03-16", 0, 0.0, 3), ("2026-03-23", 6, round(6 / 7, 6), 7),
                                         ("2026-03-30", 1, 0.25, 4)]


def test_coverage_days_are_local_days_in_the_configured_time_zone(tmp_path):
    wh = Warehouse(tmp_path, MetricSettings(timezone="America/New_York"))
    # 22:00 on 30 and 31 March in New York (UTC-4): both in March there, one in April in UTC
    wh.load([dep("a", "2026-03-31T02:00:00Z"), dep("b", "2026-04-01T02:00:00Z")])
    assert wh.rows("SELECT first_day::VARCHAR, last_day::VARCHAR FROM fct_coverage") == [("2026-03-30", "2026-03-31")]
    assert periods(wh, "month") == [("2026-03-01", 31, 2, 2, 1.0)]
    wh.con.close()


def test_a_source_synced_from_an_api_covers_up_to_its_last_successful_sync(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z"), dep("b", "2026-03-03T10:00:00Z")])
    # GitHub: one stored change, a sync that finished on 10 March, and a failed one on 20 March
    wh.con.execute("""
        INSERT INTO stg_events (origin, source, event_id, ingest_run_id, kind, occurred_at, subject_id, merged_at)
        VALUES ('github', 'github:acme/payments', 'pr-9', 901, 'change_merged', TIMESTAMPTZ '2026-03-01 12:00:00+00',
                'acme/payments#9', TIMESTAMPTZ '2026-03-01 12:00:00+00')""")
    wh.con.execute("""
        INSERT INTO ingest_runs (run_id, origin, target, started_at, finished_at, outcome) VALUES
            (901, 'github', 'acme/payments', TIMESTAMPTZ '2026-03-10 11:00:00+00', TIMESTAMPTZ '2026-03-10 12:00:00+00', 'ok'),
            (902, 'github', 'acme/payments', TIMESTAMPTZ '2026-03-20 11:00:00+00', TIMESTAMPTZ '2026-03-20 11:05:00+00', 'failed')""")
    build_metrics(wh.con, wh.settings)
    assert wh.rows("SELECT first_day::VARCHAR, last_day::VARCHAR FROM fct_coverage") == [("2026-03-01", "2026-03-10")]
    assert periods(wh, "month") == [("2026-03-01", 31, 10, 2, 0.2)]


def test_a_sync_of_an_origin_without_events_covers_nothing(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z")])
    wh.con.execute("""
        INSERT INTO ingest_runs (run_id, origin, target, started_at, finished_at, outcome)
        VALUES (901, 'github', 'acme/empty', TIMESTAMPTZ '2026-03-10 11:00:00+00', TIMESTAMPTZ '2026-03-10 12:00:00+00', 'ok')""")
    build_metrics(wh.con, wh.settings)
    assert periods(wh, "month") == [("2026-03-01", 31, 1, 1, 1.0)]


def test_deploys_per_day_is_explained_with_the_observed_days(wh):
    wh.load([dep("a", "2026-07-01T09:00:00Z"), dep("b", "2026-08-10T09:00:00Z"), dep("c", "2026-08-30T18:00:00Z")])
    frame = explain_figure(wh.con, "deploys_per_day", "quarter", date(2026, 8, 1), "all", "production", wh.settings)
    assert frame.attrs["observed_days"] == 61
    assert frame.attrs["figure"] == compute_figure(frame) == 3 / 61
    # a period outside the coverage has no observed day: no rate, never a division by zero
    outside = explain_figure(wh.con, "deploys_per_day", "quarter", date(2026, 1, 1), "all", "production", wh.settings)
    assert outside.attrs["observed_days"] == 0 and compute_figure(outside) is None


# --- the empty scope -----------------------------------------------------------------------------

@pytest.mark.parametrize("grain", ["day", "month"])
def test_an_empty_warehouse_has_no_periods(wh, grain):
    wh.load([])
    assert wh.rows("SELECT count(*) FROM metric_periods") == [(0,)]
    assert wh.rows("SELECT count(*) FROM fct_coverage") == [(0,)]
    assert summary(wh, grain=grain) == []
    assert describe_empty_scope(wh.con, "production") == (
        "No data: no deployment, change or incident is stored in any environment "
        "(load some: dora ingest events FILE).")


def test_events_without_a_deployment_change_or_incident_make_no_periods(wh):
    wh.load([c.pipelinerun(id="p1", at="2026-03-02T10:00:00Z", run="r1", pipeline="build", outcome="success")])
    assert summary(wh, grain="day") == []


def test_an_environment_without_data_has_no_periods_and_the_message_names_those_with_data(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z"), dep("b", "2026-03-02T11:00:00Z", environment="staging")])
    assert summary(wh, grain="day", environment="prodution") == []
    assert describe_empty_scope(wh.con, "prodution") == (
        "No data for environment 'prodution'; environments with data: production, staging.")
    # a service asked for in an environment without data is the same empty scope, not an error
    assert summary(wh, grain="day", environment="prodution", service="payments") == []


def test_filters_outside_the_coverage_name_the_days_it_covers(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z"), dep("b", "2026-04-02T10:00:00Z")])
    assert summary(wh, grain="month", from_date=date(2027, 1, 1)) == []
    assert describe_empty_scope(wh.con, "production") == (
        "No rows for these filters in production: the data covers 2026-03-02 to 2026-04-02.")


# --- lead time's start ---------------------------------------------------------------------------

def lead_times(wh):
    return wh.rows("""SELECT l.change_id, l.lead_start_field, l.lead_time_hours, s.coding_hours, s.pickup_hours,
                             s.review_hours, s.deploy_wait_hours
                      FROM fct_lead_times l JOIN fct_change_stages s USING (change_id, environment)
                      ORDER BY change_id""")


def test_lead_time_starts_at_the_earliest_of_first_commit_opened_and_merged(wh):
    wh.load([
        # DevLake's pr2: a rebased branch whose first commit is dated after the merge — starts when opened
        pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-04T08:00:00Z", opened_at="2026-03-02T10:00:00Z"),
        # the same without an opening: starts at the merge
        pr(2, "2026-03-03T10:00:00Z", first_commit_at="2026-03-04T08:00:00Z"),
        # first commit after the opening (force-pushed), before the merge: starts when opened, coding 0
        pr(3, "2026-03-03T10:00:00Z", first_commit_at="2026-03-02T12:00:00Z", opened_at="2026-03-02T10:00:00Z",
           first_review_at="2026-03-03T08:00:00Z"),
        # the usual order: starts at the first commit
        pr(4, "2026-03-03T10:00:00Z", first_commit_at="2026-03-01T10:00:00Z", opened_at="2026-03-02T10:00:00Z",
           first_review_at="2026-03-03T08:00:00Z"),
        dep("d1", "2026-03-03T12:00:00Z", changes=[f"acme/payments#{n}" for n in range(1, 5)]),
    ])
    assert lead_times(wh) == [
        ("acme/payments#1", "opened_at", 26.0, 0.0, None, None, 2.0),
        ("acme/payments#2", "merged_at", 2.0, None, None, None, 2.0),
        ("acme/payments#3", "opened_at", 26.0, 0.0, 22.0, 2.0, 2.0),
        ("acme/payments#4", "first_commit_at", 50.0, 24.0, 22.0, 2.0, 2.0),
    ]
    # none is a negative lead time any more; every change counts in the period
    assert wh.rows("SELECT count(*) FROM dq_findings WHERE finding = 'negative_lead_time'") == [(0,)]
    assert wh.rows("SELECT changes_deployed, lead_time_median_hours FROM metric_periods "
                   "WHERE grain = 'day' AND service = 'all'") == [(4, 26.0)]


def test_a_tie_names_the_field_earliest_in_the_changes_life(wh):
    wh.load([pr(1, "2026-03-03T10:00:00Z", first_commit_at="2026-03-02T10:00:00Z", opened_at="2026-03-02T10:00:00Z"),
             dep("d1", "2026-03-03T12:00:00Z", changes=["acme/payments#1"])])
    assert lead_times(wh) == [("acme/payments#1", "first_commit_at", 26.0, 0.0, None, None, 2.0)]


# --- the definitions version ---------------------------------------------------------------------

def test_every_export_row_names_definitions_version_2_and_observed_days_follows_deploys_per_day(wh):
    assert DEFINITIONS_VERSION == "2"
    assert REQUIRED_COLUMNS[3:6] == ["deploys_per_day", "observed_days", "lead_time_median_hours"]
    wh.load([pr(1, "2026-03-02T08:00:00Z", first_commit_at="2026-03-01T10:00:00Z"),
             dep("a", "2026-03-02T10:00:00Z", changes=["acme/payments#1"]),
             c.pipelinerun(id="p1", at="2026-03-02T09:00:00Z", run="r1", pipeline="build", outcome="success",
                           service="payments")])
    for name in TABLES:
        if name in ("before-after", "story"):
            continue  # they need annotations: tests/test_compare.py and tests/test_story.py check their version
        frame = query_table(wh.con, name, Filters(grain="month"), wh.settings)
        assert len(frame) and set(frame["definitions_version"]) == {"2"}, name
    summary_columns = list(query_table(wh.con, "summary", Filters(grain="month"), wh.settings).columns)
    assert summary_columns[:len(REQUIRED_COLUMNS)] == REQUIRED_COLUMNS
    assert summary_columns[-4:] == ["caught_in_rollout_share", "grain", "time_zone", "definitions_version"]


def test_a_warehouse_built_under_definitions_version_1_is_rebuilt(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z")])
    assert is_current(wh.con, wh.settings)
    wh.con.execute("UPDATE build_info SET settings = json_merge_patch(settings, '{\"definitions_version\": \"1.0\"}')")
    assert not is_current(wh.con, wh.settings)
    assert ensure_built(wh.con, wh.settings) and is_current(wh.con, wh.settings)
    assert wh.rows("SELECT settings->>'definitions_version' FROM build_info") == [("2",)]


def test_every_export_table_of_an_empty_scope_is_the_header_only(wh):
    wh.load([dep("a", "2026-03-02T10:00:00Z")])
    # the tables with a period spine (the others list only rows with data, or refuse other environments)
    for name in ("summary", "lead-time-breakdown"):
        frame = query_table(wh.con, name, Filters(grain="month", environment="prodution"), wh.settings)
        assert frame.empty and "definitions_version" in frame.columns, name
