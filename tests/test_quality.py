"""The data-quality report: every finding from literal events, `dora quality`, `--table quality`."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from tools import cdevents as c
from dashboard.catalog import FINDING_TITLES
from dora.cli import main
from metrics.build import MetricSettings
from metrics.export import Filters, query_table
from metrics.quality import FINDINGS

EVENTS = [
    c.merged(id="m1", at="2026-03-02T08:00:00Z", change="acme/payments#1", repository="acme/payments"),
    c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="payments", repository="acme/payments"),
    c.deployed(id="d2", at="2026-03-03T10:00:00Z", service="payments", repository="acme/payments"),
    c.deployed(id="d3", at="2026-03-04T10:00:00Z", service="search", changes=[]),
    c.incident_detected(id="i1", at="2026-03-05T10:00:00Z", incident="INC-1", service=None),
    c.incident_detected(id="i2", at="2026-03-06T10:00:00Z", incident="INC-2", service="payments"),
    c.pipelinerun(id="r1", at="2026-03-07T10:00:00Z", run="run-1", pipeline="cd", predicate="started",
                  service="payments"),
]
BAD_LINES = ['{"not": "a CDEvent"}', "{oops"]


def findings(wh):
    return wh.rows("SELECT finding, entity_id, service, detail FROM dq_findings ORDER BY finding, entity_id")


def test_every_new_finding_with_its_reason_and_the_old_ones_still_there(wh):
    wh.load(EVENTS + BAD_LINES)
    name = "events-1.jsonl"
    path = str(wh.tmp_path / name)
    assert findings(wh) == [
        # merged before payments' first deployment: never credited to it (an existing finding)
        ("change_not_deployed", "acme/payments#1", None,
         "merged 2026-03-02 08:00 UTC in acme/payments; no production deployment shipped it"),
        ("deployment_without_changes", "d1", "payments",
         "first deployment of payments seen: without a changes list it ships nothing"),
        ("deployment_without_changes", "d2", "payments",
         "no change of acme/payments merged since the previous deployment (d1)"),
        ("deployment_without_changes", "d3", "search", "its changes list is empty"),
        ("event_rejected", f"{path}:8", None, 'not a CDEvent: no "context" object'),
        ("event_rejected", f"{path}:9", None, "not valid JSON"),
        ("incident_unresolved", "INC-1", None, "no incident.resolved event; left out of recovery times"),
        ("incident_unresolved", "INC-2", "payments", "no incident.resolved event; left out of recovery times"),
        ("incident_without_service", "INC-1", None,
         "names no service: counted only in the organisation's figures (all), never attributed by time window"),
        ("pipeline_unfinished", "run-1", "payments",
         "started, no finished event (still running, or the event was lost): left out of durations"),
    ]


def test_a_rejected_line_read_twice_is_one_finding(wh):
    path = wh.write(BAD_LINES[:1], name="bad.jsonl")
    from dora.jobs import run_eventlog_ingest

    run_eventlog_ingest(wh.con, wh.path, [str(path)], MetricSettings())
    run_eventlog_ingest(wh.con, wh.path, [str(path)], MetricSettings())
    assert wh.rows("SELECT entity_id FROM dq_findings WHERE finding = 'event_rejected'") == [(f"{path}:1",)]


def test_dora_quality_prints_counts_meanings_and_examples(wh):
    wh.load(EVENTS)
    result = CliRunner().invoke(main, ["quality", "--examples", "1", "--db", str(wh.path)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "deployment_without_changes: 3  (no change linked: in the 'none' batch bucket, adds no lead time)",
        "  d1  2026-03-02 10:00  payments production  first deployment of payments seen: without a changes list it ships nothing",
        "  … and 2 more: dora quality --finding deployment_without_changes --examples 3",
        "incident_unresolved: 2  (never resolved: left out of recovery times)",
        "  INC-1  2026-03-05 10:00  production  no incident.resolved event; left out of recovery times",
        "  … and 1 more: dora quality --finding incident_unresolved --examples 2",
        "change_not_deployed: 1  (merged, but no production deployment shipped it: not in lead times)",
        "  acme/payments#1  2026-03-02 08:00  production  merged 2026-03-02 08:00 UTC in acme/payments; no production deployment shipped it",
        "incident_without_service: 1  (names no service: only in 'all', never attributed by time window)",
        "  INC-1  2026-03-05 10:00  production  names no service: counted only in the organisation's figures (all), never attributed by time window",
        "pipeline_unfinished: 1  (pipeline run never finished: left out of durations)",
        "  run-1  2026-03-07 10:00  payments  started, no finished event (still running, or the event was lost): left out of durations",
    ]
    one = CliRunner().invoke(main, ["quality", "--finding", "incident_unresolved", "--db", str(wh.path)])
    assert one.output.splitlines()[0] == "incident_unresolved: 2  (never resolved: left out of recovery times)"
    assert len(one.output.splitlines()) == 3
    csv = CliRunner().invoke(main, ["quality", "--csv", "--db", str(wh.path)])
    assert csv.output.splitlines()[0] == "finding,entity_type,entity_id,service,environment,occurred_at,detail"
    assert len(csv.output.splitlines()) == 1 + 8


def test_quality_export_counts_findings_per_period_with_examples(wh):
    wh.load(EVENTS)
    frame = query_table(wh.con, "quality", Filters(grain="month"), MetricSettings())
    assert [(str(r.period_start.date()), r.service, r.finding, r.findings, r.examples)
            for r in frame.itertuples()] == [
        ("2026-03-01", "all", "change_not_deployed", 1, "acme/payments#1"),
        ("2026-03-01", "all", "deployment_without_changes", 3, "d1 | d2 | d3"),
        ("2026-03-01", "all", "incident_unresolved", 2, "INC-1 | INC-2"),
        ("2026-03-01", "all", "incident_without_service", 1, "INC-1"),
        ("2026-03-01", "all", "pipeline_unfinished", 1, "run-1"),
    ]
    only = query_table(wh.con, "quality", Filters(grain="month", service="search"), MetricSettings())
    assert list(zip(only["finding"], only["findings"])) == [("deployment_without_changes", 1)]
    assert set(only["definitions_version"]) == {"2"}


def test_every_kind_of_negative_span_is_a_finding(wh):
    wh.load([
        # merged (and first committed) after the deployment that lists it: lead time and deploy wait
        c.merged(id="m1", at="2026-03-03T14:00:00Z", change="acme/payments#1", repository="acme/payments",
                 first_commit_at="2026-03-03T13:00:00Z", opened_at="2026-03-03T13:00:00Z",
                 first_review_at="2026-03-03T13:30:00Z"),
        c.deployed(id="d1", at="2026-03-03T12:00:00Z", service="payments", changes=["acme/payments#1"]),
        # resolved before it started
        c.incident_detected(id="i1", at="2026-03-04T10:00:00Z", incident="INC-1", service="search"),
        c.incident_resolved(id="i1-end", at="2026-03-04T09:50:00Z", incident="INC-1"),
        # rolled back an hour before it was deployed
        c.deployed(id="d2", at="2026-03-05T10:00:00Z", service="search", changes=[]),
        c.rolledback(id="rb", at="2026-03-05T09:00:00Z", service="search", rolled_back_deployment="d2"),
        # a pipeline run and a stage finished before they started
        c.pipelinerun(id="r1s", at="2026-03-06T10:00:00Z", run="run-1", pipeline="cd", predicate="started",
                      service="payments"),
        c.pipelinerun(id="r1f", at="2026-03-06T09:00:00Z", run="run-1", pipeline="cd", outcome="success",
                      service="payments"),
        c.taskrun(id="t1s", at="2026-03-06T10:00:00Z", task_run="task-1", task="build", pipeline_run="run-1",
                  predicate="started"),
        c.taskrun(id="t1f", at="2026-03-06T09:30:00Z", task_run="task-1", task="build", pipeline_run="run-1",
                  outcome="success"),
    ])
    assert wh.rows("""SELECT finding, entity_type, entity_id FROM dq_findings WHERE finding LIKE 'negative%'
                      ORDER BY ALL""") == [
        ("negative_duration", "pipeline_run", "run-1"),
        ("negative_duration", "stage_run", "task-1"),
        ("negative_failed_deployment_recovery", "deployment", "d2"),
        ("negative_lead_time", "change", "acme/payments#1"),
        ("negative_recovery", "incident", "INC-1"),
        ("negative_span", "change", "acme/payments#1"),
    ]


def test_every_finding_has_a_meaning_and_a_title():
    sql = (Path(__file__).parents[1] / "metrics" / "sql" / "dq_findings.sql").read_text(encoding="utf-8")
    codes = set(re.findall(r"^SELECT '([a-z_]+)'", sql, re.M))
    assert {"negative_failed_deployment_recovery", "first_commit_after_merge"} <= codes
    assert sorted(codes - set(FINDINGS)) == [] and sorted(codes - set(FINDING_TITLES)) == []
