"""Pipeline health (docs/metrics.md): run and stage durations, CI budget, stage failures, gate stops."""
from __future__ import annotations

import pytest

from tools import cdevents as c
from dora.config import load_config
from core.errors import ConfigError
from metrics.build import MetricSettings
from metrics.export import Filters, query_table


def run(id, start, finish, outcome="success", service="payments", commit=None, stages=(), pipeline="payments-cd"):
    """A pipeline run's events; stages are (name, start, finish, outcome)."""
    events = [
        c.pipelinerun(id=f"{id}-s", at=start, run=id, pipeline=pipeline, predicate="started", service=service,
                      commit=commit),
    ]
    if finish:
        events.append(c.pipelinerun(id=f"{id}-f", at=finish, run=id, pipeline=pipeline, outcome=outcome,
                                    service=service, commit=commit))
    for name, s, f, o in stages:
        events.append(c.taskrun(id=f"{id}-{name}-s", at=s, task_run=f"{id}-{name}", task=name, pipeline_run=id,
                                predicate="started"))
        if f:
            events.append(c.taskrun(id=f"{id}-{name}-f", at=f, task_run=f"{id}-{name}", task=name,
                                    pipeline_run=id, outcome=o))
    return events


def t(hhmm, day="2026-03-02"):
    return f"{day}T{hhmm}:00Z"


def pipeline(wh, stage="(run)", grain="month", service="all", columns="*"):
    frame = wh.con.execute(
        f"SELECT {columns} FROM metric_pipeline WHERE grain = ? AND service = ? AND stage = ? ORDER BY period_start",
        [grain, service, stage]).df()
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def test_run_and_stage_durations_with_interpolated_p50_and_p90(wh):
    events = []
    for i, minutes in enumerate([10, 20, 40]):
        events += run(f"r{i}", t("10:00"), t(f"10:{minutes:02d}") if minutes < 60 else t("10:40"),
                      stages=[("build", t("10:00"), t(f"10:0{i + 2}"), "success")])
    wh.load(events)
    [r] = pipeline(wh, columns="executions, finished, succeeded, timed, duration_p50_minutes, duration_p90_minutes, "
                               "duration_mean_minutes")
    assert r == {"executions": 3, "finished": 3, "succeeded": 3, "timed": 3, "duration_p50_minutes": 20.0,
                 "duration_p90_minutes": pytest.approx(36.0), "duration_mean_minutes": pytest.approx(70 / 3)}
    [b] = pipeline(wh, "build", columns="executions, duration_p50_minutes, duration_p90_minutes, stage_order")
    assert b == {"executions": 3, "duration_p50_minutes": 3.0, "duration_p90_minutes": pytest.approx(3.8),
                 "stage_order": 1}


def test_ci_time_runs_to_the_last_ci_stage_and_is_compared_with_the_budget(wh):
    wh.load(
        # CI 20 min (build + test), then a long canary that must not count against CI
        run("slow", t("10:00"), t("11:00"), stages=[("Build", t("10:00"), t("10:05"), "success"),
                                                    ("test", t("10:05"), t("10:20"), "success"),
                                                    ("canary", t("10:20"), t("11:00"), "success")])
        # CI 12 min
        + run("fast", t("12:00"), t("12:30"), stages=[("build", t("12:00"), t("12:04"), "success"),
                                                      ("test", t("12:04"), t("12:12"), "success"),
                                                      ("canary", t("12:12"), t("12:30"), "success")])
        # fails in test after 16 min: its CI time is up to the failure
        + run("red", t("14:00"), t("14:16"), "failure", stages=[("build", t("14:00"), t("14:04"), "success"),
                                                                ("test", t("14:04"), t("14:16"), "failure")])
        # no stage events: CI time unknown, not counted either way
        + run("bare", t("16:00"), t("16:30"))
    )
    assert wh.rows("SELECT run_id, ci_minutes FROM fct_pipeline_runs ORDER BY run_id") == [
        ("bare", None), ("fast", 12.0), ("red", 16.0), ("slow", 20.0)]
    [r] = pipeline(wh, columns="ci_runs, ci_over_budget, ci_over_budget_share, ci_p50_minutes, ci_budget_minutes")
    assert r == {"ci_runs": 3, "ci_over_budget": 2, "ci_over_budget_share": 2 / 3, "ci_p50_minutes": 16.0,
                 "ci_budget_minutes": 15.0}
    wh.load([], settings=MetricSettings(ci_budget_minutes=18))
    assert pipeline(wh, columns="ci_over_budget")[0]["ci_over_budget"] == 1
    wh.load([], settings=MetricSettings(ci_stages=("build",)))
    assert wh.rows("SELECT run_id, ci_minutes FROM fct_pipeline_runs ORDER BY run_id") == [
        ("bare", None), ("fast", 4.0), ("red", 4.0), ("slow", 5.0)]


def test_stage_failure_rates_and_which_stage_stopped_the_run(wh):
    wh.load(
        run("a", t("10:00"), t("10:30"), "failure", commit="aaa",
            stages=[("build", t("10:00"), t("10:05"), "success"), ("canary", t("10:05"), t("10:30"), "failure")])
        + run("b", t("11:00"), t("11:30"), commit="bbb",
              stages=[("build", t("11:00"), t("11:05"), "success"), ("canary", t("11:05"), t("11:30"), "success")])
        + run("c", t("12:00"), t("12:10"), "cancel",
              stages=[("build", t("12:00"), t("12:05"), "success"), ("canary", t("12:05"), t("12:10"), "cancel")])
    )
    [canary] = pipeline(wh, "canary", columns="executions, finished, failed, cancelled, failure_rate, stops")
    # a cancelled stage is finished but not failed
    assert canary == {"executions": 3, "finished": 3, "failed": 1, "cancelled": 1, "failure_rate": 1 / 3, "stops": 1}
    [whole] = pipeline(wh, columns="failed, cancelled, failure_rate, stops")
    assert whole == {"failed": 1, "cancelled": 1, "failure_rate": 1 / 3, "stops": 1}
    assert wh.rows("SELECT run_id, stopped, stopped_stage FROM fct_pipeline_runs ORDER BY 1") == [
        ("a", True, "canary"), ("b", False, None), ("c", False, None)]


def test_a_gate_stop_whose_rollout_was_rolled_back_before_100_percent_was_caught_in_rollout(wh):
    wh.load(
        # the canary gate stopped the run after the rollout took 5% of traffic; rolled back in minutes
        run("gated", t("10:00"), t("10:20"), "failure", commit="bad",
            stages=[("canary-5", t("10:00"), t("10:20"), "failure")])
        + [c.deployed(id="e1", at=t("10:05"), service="payments", commit="bad", deployment_id="rollout",
                      traffic_percent=5),
           c.rolledback(id="rb", at=t("10:20"), service="payments", rolled_back_deployment="rollout")]
        # the same shape at full traffic: the failure escaped
        + run("late", t("12:00"), t("12:20"), "failure", commit="bad2",
              stages=[("canary-5", t("12:00"), t("12:20"), "failure")])
        + [c.deployed(id="e2", at=t("12:05"), service="payments", commit="bad2", deployment_id="full"),
           c.rolledback(id="rb2", at=t("12:30"), service="payments", rolled_back_deployment="full")]
    )
    assert wh.rows("SELECT run_id, stop_outcome FROM fct_pipeline_runs ORDER BY started_at") == [
        ("gated", "caught_in_rollout"), ("late", "deployed_later_failed")]
    [r] = pipeline(wh, columns="stops, stops_caught_in_rollout, stops_deployed_later_failed, stops_prevented_share")
    assert r == {"stops": 2, "stops_caught_in_rollout": 1, "stops_deployed_later_failed": 1,
                 "stops_prevented_share": 0.0}


def test_what_became_of_the_build_a_gate_stopped(wh):
    wh.load(
        # stopped at the canary; its commit never reaches production (a revert ships instead)
        run("caught", t("10:00"), t("10:30"), "failure", commit="bad",
            stages=[("canary", t("10:00"), t("10:30"), "failure")])
        + [c.deployed(id="fix", at=t("12:00"), service="payments", commit="revert")]
        # a flaky test stopped it; the same commit ships on the rerun and does not fail
        + run("flaky", t("13:00"), t("13:20"), "failure", commit="ok1",
              stages=[("test", t("13:00"), t("13:20"), "failure")])
        + [c.deployed(id="rerun", at=t("14:00"), service="payments", commit="ok1")]
        # stopped, overridden, shipped, rolled back: the gate was right and the failure escaped
        + run("override", t("15:00"), t("15:20"), "error", commit="bad2",
              stages=[("canary", t("15:00"), t("15:20"), "error")])
        + [c.deployed(id="forced", at=t("16:00"), service="payments", commit="bad2"),
           c.rolledback(id="rb", at=t("16:10"), service="payments", rolled_back_deployment="forced")]
        # the run names no commit: its fate is unknown
        + run("anon", t("17:00"), t("17:10"), "failure", stages=[("canary", t("17:00"), t("17:10"), "failure")])
        # the commit only reached staging, or another service's production: still never deployed
        + run("staged", t("18:00"), t("18:10"), "failure", commit="st",
              stages=[("canary", t("18:00"), t("18:10"), "failure")])
        + [c.deployed(id="stg", at=t("19:00"), service="payments", environment="staging", commit="st"),
           c.deployed(id="other", at=t("19:00"), service="search", commit="st")]
        # its commit was in production only before the run started: nothing shipped after it
        + [c.deployed(id="old", at=t("08:00"), service="payments", commit="again")]
        + run("again", t("20:00"), t("20:10"), "failure", commit="again",
              stages=[("canary", t("20:00"), t("20:10"), "failure")])
    )
    assert wh.rows("SELECT run_id, stopped_stage, stop_outcome FROM fct_pipeline_runs ORDER BY started_at") == [
        ("caught", "canary", "never_deployed"),
        ("flaky", "test", "deployed_later_ok"),
        ("override", "canary", "deployed_later_failed"),
        ("anon", "canary", "commit_unknown"),
        ("staged", "canary", "never_deployed"),
        ("again", "canary", "never_deployed"),
    ]
    [r] = pipeline(wh, columns="stops, stops_never_deployed, stops_deployed_later_ok, stops_deployed_later_failed, "
                               "stops_commit_unknown, stops_prevented_share")
    assert r == {"stops": 6, "stops_never_deployed": 3, "stops_deployed_later_ok": 1,
                 "stops_deployed_later_failed": 1, "stops_commit_unknown": 1, "stops_prevented_share": 3 / 5}
    [canary] = pipeline(wh, "canary", columns="stops, stops_never_deployed, stops_prevented_share")
    assert canary == {"stops": 5, "stops_never_deployed": 3, "stops_prevented_share": 3 / 4}
    [test] = pipeline(wh, "test", columns="stops, stops_never_deployed, stops_deployed_later_ok, stops_prevented_share")
    assert test == {"stops": 1, "stops_never_deployed": 0, "stops_deployed_later_ok": 1, "stops_prevented_share": 0.0}


def test_runs_belong_to_their_start_period_and_service_rolls_up(wh):
    wh.load(
        run("late", "2026-03-31T23:50:00Z", "2026-04-01T00:20:00Z")
        + run("s", t("10:00", "2026-04-02"), t("10:10", "2026-04-02"), service="search")
        + run("nobody", t("11:00", "2026-04-02"), t("11:10", "2026-04-02"), service=None)
    )
    got = wh.rows("""SELECT period_start::VARCHAR, service, executions FROM metric_pipeline
                     WHERE grain = 'month' AND stage = '(run)' ORDER BY 1, 2""")
    # a run naming no service counts only in 'all'
    assert got == [("2026-03-01", "all", 1), ("2026-03-01", "payments", 1), ("2026-04-01", "all", 2),
                   ("2026-04-01", "search", 1)]


def test_unfinished_and_negative_runs_are_left_out_of_durations_and_reported(wh):
    wh.load(
        run("open", t("10:00"), None, stages=[("build", t("10:00"), None, None)])
        + run("backwards", t("11:00"), t("10:50"), stages=[("build", t("11:00"), t("10:55"), "success")])
        + run("ok", t("12:00"), t("12:10"))
    )
    [r] = pipeline(wh, columns="executions, finished, timed, duration_p50_minutes")
    assert r == {"executions": 3, "finished": 2, "timed": 1, "duration_p50_minutes": 10.0}
    assert wh.rows("""SELECT finding, entity_type, entity_id, detail FROM dq_findings
                      WHERE finding IN ('pipeline_unfinished', 'negative_duration') ORDER BY 1, 2, 3""") == [
        ("negative_duration", "pipeline_run", "backwards", "finished 10.0 min before it started: left out of durations"),
        ("negative_duration", "stage_run", "backwards-build",
         "stage build finished 5.0 min before it started: left out of durations"),
        ("pipeline_unfinished", "pipeline_run", "open",
         "started, no finished event (still running, or the event was lost): left out of durations"),
    ]


def test_pipeline_export_puts_whole_runs_first_then_stages_in_run_order(wh):
    wh.load(run("r", t("10:00"), t("10:30"), stages=[("deploy", t("10:20"), t("10:30"), "success"),
                                                     ("build", t("10:00"), t("10:05"), "success"),
                                                     ("test", t("10:05"), t("10:20"), "success")]))
    frame = query_table(wh.con, "pipeline", Filters(grain="week"), MetricSettings())
    assert list(frame["stage"]) == ["(run)", "build", "test", "deploy"]
    assert list(frame["ci_over_budget_share"].isna()) == [False, True, True, True]
    by_service = query_table(wh.con, "pipeline", Filters(grain="week", by_service=True), MetricSettings())
    assert set(by_service["service"]) == {"payments"}


@pytest.mark.parametrize("toml, message", [
    ("[metrics]\nci_budget_minutes = 0\n", "ci_budget_minutes must be a number of minutes > 0"),
    ("[metrics]\nci_budget_minutes = \"15\"\n", "ci_budget_minutes must be a number of minutes > 0"),
    ("[metrics]\nci_stages = []\n", "ci_stages must be a non-empty list"),
    ("[metrics]\nci_budget = 15\n", "unknown key metrics.ci_budget"),
])
def test_ci_settings_are_validated(tmp_path, toml, message):
    path = tmp_path / "dora.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


def test_ci_settings_come_from_the_config_file(tmp_path):
    path = tmp_path / "dora.toml"
    path.write_text('[metrics]\nci_budget_minutes = 12.5\nci_stages = ["Build", "unit", "lint"]\n', encoding="utf-8")
    settings = load_config(path, env={}).metrics
    assert (settings.ci_budget_minutes, settings.ci_stages) == (12.5, ("build", "lint", "unit"))
