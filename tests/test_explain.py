"""Drill-down: the rows `explain_figure` lists reproduce every figure of every period exactly."""
from __future__ import annotations

import math
from datetime import date, timedelta

import duckdb
import pytest
from click.testing import CliRunner

from tools import cdevents as c
from dora.cli import main
from ingest.warehouse import snapshot_path
from metrics.build import MetricSettings
from metrics.explain import FIGURES, compute_figure, explain_figure
from metrics.filters import GRAINS, environment_group, period_days, period_start_of
from metrics.registry import PERIOD_METRICS

SETTINGS = MetricSettings()


def pr(n, merged, repo="acme/payments", **kw):
    return c.merged(id=f"m-{repo}-{n}", at=merged, change=f"{repo}#{n}", repository=repo, **kw)


def dep(id, at, service="payments", **kw):
    return c.deployed(id=id, at=at, service=service, **kw)


def inc(id, at, service="payments", **kw):
    return c.incident_detected(id=f"{id}-start", at=at, incident=id, service=service, **kw)


def res(id, at):
    return c.incident_resolved(id=f"{id}-end", at=at, incident=id)


# Two months of two services with every kind of record and link the figures depend on.
EVENTS = [
    # payments, March: merge-window links (the first deployment ships nothing), an explicit list
    pr(1, "2026-03-02T08:00:00Z", first_commit_at="2026-03-01T08:00:00Z", opened_at="2026-03-01T12:00:00Z",
       first_review_at="2026-03-01T15:00:00Z"),
    dep("p1", "2026-03-02T10:00:00Z", repository="acme/payments", commit="c1"),
    pr(2, "2026-03-03T08:00:00Z", opened_at="2026-03-03T06:00:00Z", first_review_at="2026-03-03T05:00:00Z"),
    pr(3, "2026-03-03T09:00:00Z", first_commit_at="2026-03-02T09:00:00Z", opened_at="2026-03-02T10:00:00Z",
       first_review_at="2026-03-02T11:00:00Z"),
    dep("p2", "2026-03-03T12:00:00Z", repository="acme/payments", commit="c2"),
    c.rolledback(id="rb1", at="2026-03-03T12:40:00Z", service="payments"),
    pr(4, "2026-03-10T08:00:00Z", first_commit_at="2026-03-09T20:00:00Z"),
    # lists a change merged after it finished (a negative lead time) and one never reported merged
    pr(5, "2026-03-10T18:00:00Z", first_commit_at="2026-03-10T17:00:00Z"),
    dep("p3", "2026-03-10T12:00:00Z", changes=["acme/payments#4", "acme/payments#5", "acme/payments#99"],
        repository="acme/payments", commit="c3"),
    inc("INC-1", "2026-03-10T13:00:00Z"),                                   # window → p3
    res("INC-1", "2026-03-10T14:30:00Z"),
    dep("p4", "2026-03-17T12:00:00Z", repository="acme/payments", commit="c4", unplanned=True),
    inc("INC-2", "2026-03-18T09:00:00Z", caused_by_commit="c4"),            # commit → p4, never resolved
    inc("INC-3", "2026-03-20T09:00:00Z", service=None),                     # no service: only in 'all'
    res("INC-3", "2026-03-20T09:45:00Z"),
    inc("INC-4", "2026-03-21T09:00:00Z"),                                   # resolved before it started
    res("INC-4", "2026-03-21T08:50:00Z"),
    # search, March and April
    pr(1, "2026-03-04T08:00:00Z", repo="acme/search", first_commit_at="2026-03-03T08:00:00Z"),
    dep("s1", "2026-03-04T09:00:00Z", service="search", changes=["acme/search#1"]),
    dep("s2", "2026-03-31T23:00:00Z", service="search", unplanned=True),
    inc("INC-5", "2026-04-01T00:10:00Z", service="search", caused_by_deployment="s2"),
    res("INC-5", "2026-04-01T01:00:00Z"),
    c.rolledback(id="rb2", at="2026-04-01T00:30:00Z", service="search", rolled_back_deployment="s2"),
    pr(2, "2026-04-06T08:00:00Z", repo="acme/search", opened_at="2026-04-06T07:00:00Z"),
    pr(3, "2026-04-06T09:00:00Z", repo="acme/search", first_commit_at="2026-04-05T09:00:00Z"),
    dep("s3", "2026-04-07T09:00:00Z", service="search", changes=["acme/search#2", "acme/search#3"]),
    dep("s4", "2026-04-14T09:00:00Z", service="search", changes=[]),
    # staging has figures of its own
    dep("st1", "2026-03-02T09:00:00Z", environment="staging", changes=["acme/payments#1"]),
]

STATS = {"median": 0.5, "p75": 0.75, "p90": 0.9}


def quantile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks, written out (what quantile_cont does)."""
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def recompute(metric: str, rows, days: int):
    """The figure from the listed rows, by the metric's name alone."""
    values = [r.value for r in rows.itertuples() if r.counted]
    if metric == "deploys_per_day":
        return len(values) / days
    if metric.endswith(("_rate", "_share")):  # shares are rates too
        return sum(values) / len(values) if values else None
    for stat, q in STATS.items():
        if f"_{stat}_" in metric:
            return quantile(values, q) if values else None
    if "_mean_" in metric:
        return sum(values) / len(values) if values else None
    return len(values)


def stored(con, metric, grain, start, service, environment):
    """(figure, observed days) as the metric tables hold them, or (None, None) when there is no row."""
    if FIGURES[metric].source == "metric_periods":
        rows = con.execute(
            f"SELECT {metric}, observed_days FROM metric_periods WHERE grain = ? AND period_start = ? AND service = ? "
            "AND environment = ?", [grain, start, service, environment]).fetchall()
        return rows[0] if rows else (None, None)
    stage = FIGURES[metric].stage
    column = metric.removeprefix(stage + "_")
    rows = con.execute(
        f"SELECT {column} FROM metric_lead_time_breakdown WHERE grain = ? AND period_start = ? AND service = ? "
        "AND environment = ? AND stage = ?", [grain, start, service, environment, stage]).fetchall()
    return (rows[0][0] if rows else None), None


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    from tests.conftest import Warehouse

    wh = Warehouse(tmp_path_factory.mktemp("explain"))
    wh.load(EVENTS)
    yield wh
    wh.con.close()


def test_every_metric_column_can_be_explained(loaded):
    columns = {r[0] for r in loaded.con.execute("DESCRIBE metric_periods").fetchall()}
    columns -= {"grain", "period_start", "service", "environment", "days", "observed_days"}
    assert sorted(columns - set(FIGURES)) == []
    stage_columns = {f"{stage}_{col}" for stage in ("coding", "pickup", "review", "deploy_wait")
                     for col in ("changes", "median_hours", "p75_hours", "p90_hours", "mean_hours")}
    assert stage_columns <= set(FIGURES)


@pytest.mark.parametrize("grain", ["week", "month"])
def test_the_rows_reproduce_every_figure_of_every_period(loaded, grain):
    con = loaded.con
    # every service in months; in weeks (more periods, same code) the organisation as a whole
    keys = con.execute(
        "SELECT DISTINCT period_start, service, environment FROM metric_periods WHERE grain = ? "
        "AND (grain = 'month' OR service = 'all') ORDER BY ALL", [grain]).fetchall()
    assert len(keys) >= 7
    checked = 0
    for start, service, environment in keys:
        for metric in FIGURES:
            figure, days = stored(con, metric, grain, start, service, environment)
            frame = explain_figure(con, metric, grain, start, service, environment, SETTINGS)
            assert frame.attrs["figure"] == (None if figure is None else pytest.approx(figure))
            ours = recompute(metric, frame, days or 1)
            if figure is None:
                # no row for this figure: nothing was counted (and the stored count would be 0)
                assert ours in (None, 0), (metric, start, service, environment)
                continue
            assert ours == pytest.approx(figure), (metric, grain, start, service, environment)
            assert compute_figure(frame) == pytest.approx(figure)
            checked += 1
    assert checked >= 150


def test_rows_carry_the_rule_that_linked_them(loaded):
    con = loaded.con
    lead = explain_figure(con, "lead_time_median_hours", "month", date(2026, 3, 1), "payments", "production",
                          SETTINGS)
    got = {r.record_id: (r.counted, None if r.value != r.value else r.value, r.rule, r.link_rule,
                         r.lead_start_field if isinstance(r.lead_start_field, str) else None)
           for r in lead.itertuples()}
    assert got == {
        "acme/payments#2": (True, 6.0, "shipped by p2 (merge_window); starts at opened_at", "merge_window", "opened_at"),
        "acme/payments#3": (True, 27.0, "shipped by p2 (merge_window); starts at first_commit_at", "merge_window",
                            "first_commit_at"),
        "acme/payments#4": (True, 16.0, "shipped by p3 (explicit); starts at first_commit_at", "explicit",
                            "first_commit_at"),
        "acme/payments#5": (False, -5.0, "shipped by p3 (explicit); starts at first_commit_at", "explicit",
                            "first_commit_at"),
        "acme/payments#99": (False, None, "shipped by p3 (explicit); starts at unknown: no change.merged event",
                             "explicit", None),
    }
    cfr = explain_figure(con, "change_failure_rate", "month", date(2026, 3, 15), "all", "production", SETTINGS)
    assert [(r.record_id, r.value, r.rule) for r in cfr.itertuples()] == [
        ("p1", 0.0, ""),
        ("p2", 1.0, "rolled back 2026-03-03 12:40 (latest_deployment_before)"),
        ("s1", 0.0, ""),
        ("p3", 1.0, "incident INC-1 (latest_deployment_in_window)"),
        ("p4", 1.0, "incident INC-2 (caused_by_commit)"),
        ("s2", 1.0, "rolled back 2026-04-01 00:30 (rolled_back_deployment); incident INC-5 (caused_by_deployment)"),
    ]
    rec = explain_figure(con, "failed_deployment_recovery_median_minutes", "month", date(2026, 3, 1), "all",
                         "production", SETTINGS)
    assert [(r.record_id, r.counted, r.rule) for r in rec.itertuples()] == [
        ("p2", True, "failed: rollback; recovered by rollback"),
        ("p3", True, "failed: incident; recovered by last_incident_resolved"),
        ("p4", False, "failed: incident; recovered by nothing yet"),
        ("s2", True, "failed: rollback+incident; recovered by rollback"),
    ]
    incidents = explain_figure(con, "incident_recovery_median_minutes", "month", date(2026, 3, 1), "all",
                               "production", SETTINGS)
    assert [(r.record_id, r.counted, r.rule) for r in incidents.itertuples()] == [
        ("INC-1", True, "latest_deployment_in_window → p3"),
        ("INC-2", False, "caused_by_commit → p4"),
        ("INC-3", True, "no_service"),
        ("INC-4", False, "outside_window"),
    ]
    assert incidents["detail"].iloc[3].startswith("not counted: negative; resolved 2026-03-21 08:50")


def test_unknown_lead_time_values_are_listed_not_counted(loaded):
    lead = explain_figure(loaded.con, "changes_deployed", "month", date(2026, 3, 1), "payments", "production",
                          SETTINGS)
    row = lead.set_index("record_id").loc["acme/payments#99"]
    assert (bool(row["counted"]), row["value"] != row["value"]) == (False, True)
    assert row["detail"] == "not counted: no value; no change.merged event: no start"


def test_a_registry_id_explains_its_period_figure(loaded):
    for metric in PERIOD_METRICS:
        by_id = explain_figure(loaded.con, metric.id, "month", date(2026, 3, 9), "payments", "production", SETTINGS)
        by_column = explain_figure(loaded.con, metric.column, "month", date(2026, 3, 9), "payments", "production",
                                   SETTINGS)
        assert by_id.equals(by_column), metric.id
        assert (by_id.attrs["figure"], by_id.attrs["stat"]) == (by_column.attrs["figure"], by_column.attrs["stat"])
        assert compute_figure(by_id) == compute_figure(by_column)


def test_a_read_only_snapshot_explains_with_the_stored_macros(loaded):
    snapshot = duckdb.connect(str(snapshot_path(loaded.path)), read_only=True)
    try:
        ours = explain_figure(snapshot, "deploys_per_day", "week", date(2026, 3, 4), "all", "production", SETTINGS)
        assert compute_figure(ours) == pytest.approx(ours.attrs["figure"]) == 3 / 7
    finally:
        snapshot.close()


def test_the_python_period_rules_are_the_sql_macros(loaded):
    days = [date(2023, 12, 1) + timedelta(days=n) for n in range(800)]  # a leap year, every weekday
    for grain in GRAINS:
        rows = loaded.con.execute(
            "SELECT d, period_start_of(d, $grain), period_days(period_start_of(d, $grain), $grain) "
            "FROM unnest($days::DATE[]) t(d) ORDER BY d", {"grain": grain, "days": days}).fetchall()
        assert [(d, period_start_of(d, grain), period_days(period_start_of(d, grain), grain)) for d in days] == rows
    names = ["production", "Prod", "PRODUCTION", "staging", "Staging", "dev"]
    rows = loaded.con.execute("SELECT environment_group(unnest($names::VARCHAR[]), $production)",
                              {"names": names, "production": list(SETTINGS.production_environments)}).fetchall()
    assert [r[0] for r in rows] == [environment_group(n, SETTINGS) for n in names]


def test_a_period_without_data_explains_nothing(loaded):
    frame = explain_figure(loaded.con, "lead_time_median_hours", "month", date(2025, 1, 1), "all", "production",
                           SETTINGS)
    assert frame.empty and frame.attrs["figure"] is None and compute_figure(frame) is None


def test_dora_explain_prints_the_figure_and_its_rows(loaded):
    args = ["--db", str(loaded.path)]
    result = CliRunner().invoke(main, ["explain", "change_failure_rate", "--grain", "month", "--period",
                                       "2026-04-20", "--service", "search", *args])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:2] == [
        "change_failure_rate, month from 2026-04-01, service search, production",
        "  stored figure: 0   from the rows below: 0   (the share of rows whose value is 1; 2 of 2 rows counted)",
    ]
    assert lines[2].split() == ["record", "id", "service", "at", "counted", "value", "(flag)", "rule", "detail"]
    assert lines[4].split()[:7] == ["deployment", "s3", "search", "2026-04-07", "09:00", "yes", "0"]
    csv = CliRunner().invoke(main, ["explain", "deployments", "--grain", "week", "--period", "2026-03-04",
                                    "--csv", *args])
    assert csv.output.splitlines()[0].startswith(
        "record_type,record_id,service,environment,at,counted,value,unit,rule,detail,")
    assert len(csv.output.splitlines()) == 1 + 3  # p2 (Tue), s1 (Wed) and p1 (Mon)
    bad = CliRunner().invoke(main, ["explain", "lead_time", "--period", "2026-03-01", *args])
    assert bad.exit_code == 2 and "lead_time_median_hours" in bad.output
