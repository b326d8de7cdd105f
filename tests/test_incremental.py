"""Incremental builds: a run rebuilds only the models its new data can change (metrics.build
.update_metrics), and the warehouse it leaves equals one built from scratch, table by table, row by row.

The gate: the sample log and a generated log (rollouts, late incidents, rollbacks of canaries, changes
merged before the deployments that ship them, repeated events) split at random, by seeded generators,
into consecutive and overlapping batches, some holding a single kind of event; each batch ingested
through the real job; after every batch, every model table compared with the same warehouse rebuilt
whole (a rebuild rolled back, so the next batch builds on the incremental tables).
"""
from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest

import metrics.build
from core.sql import read_sql
from dora.jobs import run_eventlog_ingest
from dora.jobs_context import run_survey_ingest
from metrics.build import MODEL_INPUTS, MODELS, MetricSettings, build_metrics, plan_models, update_metrics
from tests.conftest import Warehouse
from tools import cdevents as c

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
# Tables the models read that are not models themselves (MODEL_INPUTS names them as inputs).
SOURCE_TABLES = ("stg_events", "survey_responses", "rejects", "ingest_runs")


def model_tables(wh: Warehouse) -> dict[str, list[tuple]]:
    """Every model table's rows, sorted, so two builds compare row by row."""
    return {name: wh.rows(f"SELECT * FROM {name} ORDER BY ALL") for name in MODELS}


def same_value(a: object, b: object) -> bool:
    """Equal, floats to 1e-9: DuckDB sums a mean's values in whatever order its threads take them."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_as_rebuilt(wh: Warehouse) -> None:
    """The tables the incremental runs left equal the tables a full rebuild of the same data makes.
    The rebuild is rolled back, so the next run builds on the incremental tables (a chain of runs)."""
    incremental = model_tables(wh)
    wh.con.execute("BEGIN TRANSACTION")
    try:
        build_metrics(wh.con, wh.settings)
        rebuilt = model_tables(wh)
    finally:
        wh.con.execute("ROLLBACK")
    for name in MODELS:
        assert len(incremental[name]) == len(rebuilt[name]), f"{name}: row counts differ from a full rebuild"
        for kept, fresh in zip(incremental[name], rebuilt[name]):
            assert all(map(same_value, kept, fresh)), f"{name} differs from a full rebuild: {kept} != {fresh}"


def write_lines(wh: Warehouse, lines: list[str]) -> Path:
    """Raw JSON lines as a new event-log file."""
    return wh.write(lines)


def split_batches(lines: list[str], rng: random.Random, batches: int) -> list[list[str]]:
    """Consecutive batches at random cut points; every other one also repeats a random stretch of
    the lines before it (overlapping files); one batch may hold a single kind of event."""
    cuts = sorted(rng.sample(range(1, len(lines)), batches - 1))
    parts = [lines[a:b] for a, b in zip([0, *cuts], [*cuts, len(lines)])]
    for i in range(1, len(parts), 2):
        start = rng.randrange(0, cuts[i - 1])
        parts[i] = lines[start:cuts[i - 1]][: rng.randint(1, 200)] + parts[i]
    if rng.random() < 0.5:
        kind = rng.choice(["change.merged", "incident.", "service.rolledback", "service.deployed"])
        rest = [line for line in lines if kind not in line]
        parts = [[line for line in lines if kind in line]] + split_batches(rest, rng, batches - 1) \
            if batches > 2 and len(rest) > batches else parts
    return [p for p in parts if p]


def generated_log(rng: random.Random) -> list[str]:
    """A small log exercising the rules that reach back in time, shuffled out of time order."""
    events = []
    services = {"pay": "acme/pay", "shop": "acme/shop", "mono-a": "acme/mono", "mono-b": "acme/mono"}
    for day in range(1, 9):
        for service, repo in services.items():
            at = f"2026-03-{day:02d}T{rng.randint(8, 17):02d}:{rng.randint(0, 59):02d}:00Z"
            change = f"{repo}#{day}{service}"
            events.append(c.merged(id=f"m-{service}-{day}", at=at, change=change, repository=repo,
                                   first_commit_at=f"2026-03-{day:02d}T01:00:00Z", commit=f"{day:02d}{len(service)}aa" * 4,
                                   merged_at=at, additions=rng.randint(1, 500), deletions=rng.randint(0, 50)))
            dep = f"{service}-{day}"
            deploy_at = f"2026-03-{day:02d}T18:{rng.randint(0, 59):02d}:00Z"
            if rng.random() < 0.4:  # a progressive rollout, sometimes stopped by a rollback
                for step, pct in enumerate((5, 25, 100)):
                    events.append(c.deployed(id=f"d-{dep}-{pct}", at=f"2026-03-{day:02d}T{18 + step}:00:00Z",
                                             service=service, deployment_id=dep, repository=repo,
                                             traffic_percent=pct, kind="service.upgraded" if step else "service.deployed"))
                    if pct == 25 and rng.random() < 0.5:
                        events.append(c.rolledback(id=f"rb-{dep}", at=f"2026-03-{day:02d}T19:30:00Z", service=service))
                        break
            else:
                events.append(c.deployed(id=f"d-{dep}", at=deploy_at, service=service, deployment_id=dep,
                                         repository=repo, commit=f"{day:02d}{len(service)}aa" * 4,
                                         changes=[change] if rng.random() < 0.5 else None,
                                         unplanned=rng.random() < 0.2))
            if rng.random() < 0.3:  # an incident, perhaps reported late, perhaps naming its cause
                cause = rng.choice([{}, {"caused_by_deployment": dep}, {"caused_by_change": change},
                                    {"caused_by_commit": f"{day:02d}{len(service)}aa"}])
                events.append(c.incident_detected(id=f"i-{dep}", at=f"2026-03-{day:02d}T21:00:00Z",
                                                  incident=f"INC-{dep}", service=service, **cause))
                if rng.random() < 0.8:
                    events.append(c.incident_resolved(id=f"r-{dep}", at=f"2026-03-{day + 1:02d}T01:00:00Z",
                                                      incident=f"INC-{dep}"))
    events.append(c.incident_detected(id="i-orphan", at="2026-03-04T12:00:00Z", incident="INC-x", service=None))
    lines = [c.to_jsonl([e]).rstrip("\n") for e in events]
    rng.shuffle(lines)
    return lines + rng.sample(lines, 10)  # repeated events


# Far from UTC both ways: a period-scoped build recomputes the periods of the local days a changed UTC
# day reaches (the day before or after it here).
@pytest.mark.parametrize("seed, timezone", [(1, "UTC"), (2, "UTC"), (3, "Pacific/Kiritimati"),
                                            (4, "America/Los_Angeles")])
def test_generated_log_in_random_batches_equals_a_full_build(tmp_path, seed, timezone):
    rng = random.Random(seed)
    wh = Warehouse(tmp_path, MetricSettings(timezone=timezone))
    for batch in split_batches(generated_log(rng), rng, 5):
        run_eventlog_ingest(wh.con, wh.path, [str(write_lines(wh, batch))], wh.settings)
        assert_same_as_rebuilt(wh)  # after every run: a later run must not hide a stale table


@pytest.mark.parametrize("seed", [7, 8])
def test_sample_log_and_survey_in_random_batches_equal_a_full_build(tmp_path, seed):
    rng = random.Random(seed)
    wh = Warehouse(tmp_path)
    lines = (SAMPLE / "events.jsonl").read_text(encoding="utf-8").splitlines()
    batches = split_batches(lines, rng, 4)
    survey_after = rng.randrange(len(batches))
    for i, batch in enumerate(batches):
        run_eventlog_ingest(wh.con, wh.path, [str(write_lines(wh, batch))], wh.settings)
        if i == survey_after:
            run_survey_ingest(wh.con, wh.path, str(SAMPLE / "survey.csv"), wh.settings)
        assert_same_as_rebuilt(wh)


def test_a_run_rebuilds_only_the_models_its_data_reaches(wh):
    wh.load([c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay", repository="acme/pay")])
    assert plan_models(wh.con, wh.settings) is None  # current: nothing to do
    survey = wh.tmp_path / "survey.csv"
    survey.write_text((SAMPLE / "survey.csv").read_text(encoding="utf-8"), encoding="utf-8")
    run_survey_ingest(wh.con, wh.path, str(survey), wh.settings)
    assert wh.one("SELECT count(*) FROM metric_survey") > 0
    # a change merged: the links, lead times and everything reading them, never fct_deployments
    wh.write([c.merged(id="m1", at="2026-03-01T10:00:00Z", change="acme/pay#1", repository="acme/pay")], "m.jsonl")
    wh.con.execute("BEGIN TRANSACTION")
    from ingest import eventlog
    from ingest.warehouse import finish_run, start_run
    run = start_run(wh.con, eventlog.ORIGIN, "m.jsonl")
    eventlog.ingest_event_logs(wh.con, [str(wh.tmp_path / "m.jsonl")], run, None, eventlog.CHUNK_BYTES)
    finish_run(wh.con, run)
    planned = plan_models(wh.con, wh.settings)
    assert "fct_changes" in planned and "fct_deployment_changes" in planned and "metric_periods" in planned
    assert not {"fct_deployments", "fct_rollbacks", "fct_stage_runs", "metric_survey"} & set(planned)
    assert update_metrics(wh.con, wh.settings) == planned
    wh.con.execute("COMMIT")
    assert plan_models(wh.con, wh.settings) is None


def test_other_settings_or_a_replacing_source_rebuild_every_model(wh):
    wh.load([c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay")])
    assert plan_models(wh.con, MetricSettings(timezone="Europe/Paris")) == MODELS
    assert plan_models(wh.con, MetricSettings(attribution_window_hours=2)) == MODELS
    wh.con.execute("INSERT INTO ingest_runs (run_id, origin, started_at, outcome) "
                   "VALUES (nextval('ingest_run_ids'), 'github', now(), 'ok')")
    assert plan_models(wh.con, wh.settings) == MODELS


def test_every_model_declares_the_tables_and_kinds_its_sql_reads():
    known = set(MODELS) | set(SOURCE_TABLES)
    for name in MODELS:
        sql = re.sub(r"--[^\n]*", "", read_sql("metrics", name))
        declared = set(MODEL_INPUTS[name])
        tables = {t for t in re.findall(r"\b[a-z_]+\b", sql) if t in known and t != name}
        for table in tables - {"stg_events", "ingest_runs"}:
            assert table in declared, f"{name} reads {table} but MODEL_INPUTS does not say so"
        filters = re.findall(r"\bkind\s*(?:=\s*'[a-z_]+'|IN\s*\([^)]*\))", sql)
        kinds = {k for f in filters for k in re.findall(r"'([a-z_]+)'", f)}
        if "stg_events" in tables:
            assert kinds <= {d[4:] for d in declared} or "stg:*" in declared, name
            assert kinds or "stg:*" in declared, f"{name} reads every kind: declare stg:*"
    assert set(MODEL_INPUTS) == set(MODELS)


def test_the_gate_fails_when_a_run_leaves_a_reached_model_stale(wh, monkeypatch):
    # a deliberately wrong plan: fct_failures no longer reads fct_incidents, so a late incident
    # rebuilds the incidents but leaves the failure it makes unrecorded — the gate must say so
    wrong = dict(MODEL_INPUTS, fct_failures=tuple(i for i in MODEL_INPUTS["fct_failures"] if i != "fct_incidents"))
    monkeypatch.setattr("metrics.build.MODEL_INPUTS", wrong)
    wh.load([c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay")])
    wh.load([c.incident_detected(id="i1", at="2026-03-02T11:00:00Z", incident="INC-1", service="pay")])
    assert wh.one("SELECT count(*) FROM fct_failures") == 0
    with pytest.raises(AssertionError, match="fct_failures: row counts differ"):
        assert_same_as_rebuilt(wh)


def test_a_new_deployment_leaves_every_other_deployment_key_unchanged(wh):
    # keys come from the deployment's own identity, not its place in finish order: a deployment that
    # finished before the others (reported late) renumbers none of them, in no table holding keys
    wh.load([c.deployed(id="d2", at="2026-03-03T10:00:00Z", service="pay", deployment_id="pay-2"),
             c.rolledback(id="rb", at="2026-03-03T11:00:00Z", service="pay"),
             c.deployed(id="d3", at="2026-03-04T10:00:00Z", service="shop", deployment_id="shop-1")])
    keys = "SELECT deployment_id, deployment_key FROM fct_deployments ORDER BY 1"
    before = dict(wh.rows(keys))
    failed = wh.rows("SELECT deployment_key FROM fct_failures")
    wh.load([c.deployed(id="d1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="pay-1")])
    after = dict(wh.rows(keys))
    assert {k: after[k] for k in before} == before and set(after) == {"pay-1", "pay-2", "shop-1"}
    assert wh.rows("SELECT deployment_key FROM fct_failures") == failed == [(before["pay-2"],)]
    assert len(set(after.values())) == 3


def test_a_partial_build_recomputes_only_the_periods_whose_facts_changed(wh, monkeypatch):
    wh.load([c.deployed(id="d1", at="2026-01-14T10:00:00Z", service="pay", deployment_id="pay-1"),
             c.deployed(id="d2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2")])
    before_february = "SELECT * FROM metric_periods WHERE period_start < DATE '2026-02-01' AND grain <> 'quarter' ORDER BY ALL"
    january = wh.rows(before_february)
    scoped: list[tuple] = []
    run = metrics.build.run_model_by_period

    def spy(con, name, params):
        scoped.extend(con.execute("SELECT grain, period_start::VARCHAR FROM build_scope.periods").fetchall())
        run(con, name, params)

    monkeypatch.setattr(metrics.build, "run_model_by_period", spy)
    wh.load([c.deployed(id="d3", at="2026-03-20T10:00:00Z", service="pay", deployment_id="pay-3")])
    # the days the coverage gained (03-03 to 03-20, pay-3 finishing on the last), one either side
    days = {("day", f"2026-03-{d:02d}") for d in range(2, 22)}
    weeks = {("week", w) for w in ("2026-03-02", "2026-03-09", "2026-03-16")}
    assert set(scoped) == days | weeks | {("month", "2026-03-01"), ("quarter", "2026-01-01")}
    assert wh.rows(before_february) == january
    assert_same_as_rebuilt(wh)


def stage_by_hand(wh: Warehouse, sql: str) -> None:
    """Alter the staged rows as a source the event log cannot express would (GitHub's origin, its shipped
    commits), then rebuild every model, as a run of such a source does."""
    wh.con.execute(sql)
    wh.con.execute("BEGIN TRANSACTION")
    build_metrics(wh.con, wh.settings)
    wh.con.execute("COMMIT")


def spy_row_scopes(monkeypatch) -> dict[str, list[str]]:
    """The changes or deployments each row-scoped model recomputes in the builds that follow, by model
    (the last of the lists it is told by: the one its own)."""
    scoped: dict[str, list[str]] = {}
    run = metrics.build.run_model_by_row

    def spy(con, name, params):
        rows = metrics.build.ROW_SCOPES[name].rows[-1]
        scoped[name] = sorted(str(r[0]) for r in con.execute(f"SELECT * FROM build_scope.{rows}").fetchall())
        run(con, name, params)

    monkeypatch.setattr(metrics.build, "run_model_by_row", spy)
    return scoped


def spy_scope_rows(monkeypatch, model: str, query: str) -> list[list[tuple]]:
    """What `query` finds as each row-scoped run of `model` begins in the builds that follow, a list per
    build (the query reads the build_scope schema)."""
    seen: list[list[tuple]] = []
    run = metrics.build.run_model_by_row

    def spy(con, name, params):
        if name == model:
            seen.append(con.execute(query).fetchall())
        run(con, name, params)

    monkeypatch.setattr(metrics.build, "run_model_by_row", spy)
    return seen


def test_a_partial_build_recomputes_only_the_changes_whose_rows_can_differ(wh, monkeypatch):
    wh.load([c.deployed(id="d1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="pay-1", repository="acme/pay"),
             c.merged(id="m1", at="2026-03-01T12:00:00Z", change="acme/pay#1", repository="acme/pay"),
             c.merged(id="m2", at="2026-03-01T13:00:00Z", change="acme/pay#2", repository="acme/pay"),
             c.deployed(id="d2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2",
                        repository="acme/pay", traffic_percent=5),
             c.merged(id="m9", at="2026-02-01T12:00:00Z", change="acme/shop#9", repository="acme/shop")])
    assert wh.rows("SELECT change_id FROM fct_lead_times ORDER BY 1") == [("acme/pay#1",), ("acme/pay#2",)]
    scoped = spy_row_scopes(monkeypatch)
    # pay-2 goes to full traffic with an explicit list naming one new change: it no longer ships its
    # window's changes by that rule, so their lead times go, though no link of theirs is new
    wh.load([c.deployed(id="d3", at="2026-03-02T11:00:00Z", service="pay", deployment_id="pay-2",
                        repository="acme/pay", changes=["acme/pay#3"]),
             c.merged(id="m3", at="2026-03-02T09:00:00Z", change="acme/pay#3", repository="acme/pay")])
    reached = ["acme/pay#1", "acme/pay#2", "acme/pay#3"]
    assert {k: scoped[k] for k in ("fct_changes", "fct_lead_times", "fct_change_stages")} == {
        "fct_changes": ["acme/pay#3"], "fct_lead_times": reached, "fct_change_stages": reached}
    assert wh.rows("SELECT change_id FROM fct_lead_times") == [("acme/pay#3",)]
    assert_same_as_rebuilt(wh)


def test_a_partial_build_recomputes_the_tail_of_each_stream_a_new_deployment_joins(wh, monkeypatch):
    def pay(i: int, day: int, **more) -> dict:
        return c.deployed(id=f"p{i}", at=f"2026-03-{day:02d}T10:00:00Z", service="pay", deployment_id=f"pay-{i}",
                          **more)
    wh.load([pay(1, 2, repository="acme/pay"), pay(2, 4), pay(3, 6), pay(4, 8),
             c.deployed(id="s1", at="2026-03-05T10:00:00Z", service="shop", deployment_id="shop-1")])
    scoped = spy_scope_rows(monkeypatch, "fct_deployments",
                            "SELECT deployment_id FROM build_scope.deployment_scope ORDER BY 1")
    # pay-5, reported late, finished between pay-2 and pay-3: pay-3 and pay-4 follow it; pay-1, pay-2 and
    # shop keep their rows, and pay-5, naming no repository, takes pay's from pay-1
    wh.load([pay(5, 5)])
    assert scoped == [[("pay-3",), ("pay-4",), ("pay-5",)]]
    assert wh.rows("SELECT deployment_id, previous_deployment_id, repository FROM fct_deployments "
                   "WHERE service = 'pay' ORDER BY finished_at") == [
        ("pay-1", None, "acme/pay"), ("pay-2", "pay-1", "acme/pay"), ("pay-5", "pay-2", "acme/pay"),
        ("pay-3", "pay-5", "acme/pay"), ("pay-4", "pay-3", "acme/pay")]
    assert_same_as_rebuilt(wh)
    # a repository pay never named before changes what its unnamed deployments take: fct_deployments whole
    wh.load([pay(6, 9, repository="acme/payments")])
    assert len(scoped) == 1
    assert_same_as_rebuilt(wh)


def test_a_first_event_log_deployment_in_a_stream_github_deployed_to_rebuilds_the_deployments_whole(wh):
    # the event log is authoritative from its first deployment in a stream on: GitHub's deployment of a
    # commit the event log deploys too is left out, even one finished before it (docs/github.md)
    wh.load([c.deployed(id="g1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="g1", commit="c1"),
             c.deployed(id="g2", at="2026-03-04T10:00:00Z", service="pay", deployment_id="g2", commit="c2")])
    stage_by_hand(wh, "UPDATE stg_events SET origin = 'github' WHERE kind = 'deployment'")
    wh.load([c.deployed(id="e1", at="2026-03-02T10:00:00Z", service="pay", deployment_id="e1", commit="c1")])
    assert wh.rows("SELECT deployment_id FROM fct_deployments") == [("e1",)]
    assert_same_as_rebuilt(wh)


def test_a_partial_build_recomputes_the_batches_of_the_weeks_a_deployment_joins(wh, monkeypatch):
    pay = [c.deployed(id=f"p{i}", at=f"2026-03-0{i}T10:00:00Z", service="pay", deployment_id=f"pay-{i}")
           for i in (2, 3, 9)]  # Monday, Tuesday; the Monday after
    shop = [c.deployed(id="s1", at="2026-03-03T10:00:00Z", service="shop", deployment_id="shop-1")]
    wh.load(pay + shop)
    keys = dict(wh.rows("SELECT deployment_id, deployment_key::VARCHAR FROM fct_deployments"))
    scoped = spy_row_scopes(monkeypatch)
    # pay-1 on the Wednesday: its week's two others count three deployments that week now, and pay-9's
    # row changed (pay-1 is its predecessor now); shop is another service, untouched
    wh.load([c.deployed(id="p1", at="2026-03-04T10:00:00Z", service="pay", deployment_id="pay-1")])
    keys.update(wh.rows("SELECT deployment_id, deployment_key::VARCHAR FROM fct_deployments"))
    assert scoped["fct_deployment_batches"] == sorted(keys[d] for d in ("pay-1", "pay-2", "pay-3", "pay-9"))
    assert wh.rows("SELECT deployment_id, deploys_that_week FROM fct_deployment_batches ORDER BY 1") == [
        ("pay-1", 3), ("pay-2", 3), ("pay-3", 3), ("pay-9", 1), ("shop-1", 1)]
    assert_same_as_rebuilt(wh)


def test_a_deployment_whose_rollout_ends_the_next_week_leaves_its_first_week(wh):
    # pay-4's canary on Sunday night counts in pay-2's week; at full traffic on Monday it finishes in the
    # next week, so pay-2's week counts one deployment again, though pay-2's own row is unchanged
    wh.load([c.deployed(id="p2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2"),
             c.deployed(id="p4", at="2026-03-08T23:00:00Z", service="pay", deployment_id="pay-4", traffic_percent=5)])
    batches = "SELECT deployment_id, deploys_that_week FROM fct_deployment_batches ORDER BY 1"
    assert wh.rows(batches) == [("pay-2", 2), ("pay-4", 2)]
    wh.load([c.deployed(id="p4b", at="2026-03-09T10:00:00Z", service="pay", deployment_id="pay-4")])
    assert wh.rows(batches) == [("pay-2", 1), ("pay-4", 1)]
    assert_same_as_rebuilt(wh)


def test_a_change_reported_again_keeps_its_links_from_lists_and_gains_one_from_shipped_commits(wh):
    # web-1 lists acme/lib#1, of a repository nothing deploys; pay-2 shipped commit abc (as GitHub's compare tells),
    # the commit of a change whose merge is reported after pay-2 finished: the row-scoped links must keep
    # the one and find the other, though neither deployment changed
    wh.load([c.deployed(id="w1", at="2026-03-02T10:00:00Z", service="web", deployment_id="web-1",
                        repository="acme/web", changes=["acme/lib#1"]),
             c.deployed(id="p1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="pay-1", repository="acme/pay"),
             c.deployed(id="p2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2", repository="acme/pay")])
    stage_by_hand(wh, "UPDATE stg_events SET shipped_commits = ['abc'] WHERE deployment_id = 'pay-2'")
    wh.load([c.merged(id="m1", at="2026-03-01T12:00:00Z", change="acme/lib#1", repository="acme/lib"),
             c.merged(id="m5", at="2026-03-03T12:00:00Z", change="acme/pay#5", repository="acme/pay", commit="abc")])
    assert wh.rows("SELECT d.deployment_id, l.change_id, l.rule FROM fct_deployment_changes l "
                   "JOIN fct_deployments d USING (deployment_key) ORDER BY 1") == [
        ("pay-2", "acme/pay#5", "commit_graph"), ("web-1", "acme/lib#1", "explicit")]
    assert_same_as_rebuilt(wh)


def test_a_deployment_whose_row_changes_keeps_its_link_to_a_change_merged_long_before(wh):
    # pay-2 shipped commit abc, of a change merged a month before its window: when a deployment reported
    # late becomes pay-2's predecessor, pay-2's links are recomputed and must still find that change
    wh.load([c.deployed(id="p1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="pay-1", repository="acme/pay"),
             c.deployed(id="p2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2", repository="acme/pay"),
             c.merged(id="m5", at="2026-02-01T12:00:00Z", change="acme/pay#5", repository="acme/pay", commit="abc")])
    stage_by_hand(wh, "UPDATE stg_events SET shipped_commits = ['abc'] WHERE deployment_id = 'pay-2'")
    links = "SELECT l.change_id, l.rule FROM fct_deployment_changes l JOIN fct_deployments d USING (deployment_key)"
    assert wh.rows(links) == [("acme/pay#5", "commit_graph")]
    wh.load([c.deployed(id="p0", at="2026-03-01T20:00:00Z", service="pay", deployment_id="pay-0", repository="acme/pay")])
    assert wh.rows(links) == [("acme/pay#5", "commit_graph")]
    assert_same_as_rebuilt(wh)


def test_a_partial_build_recomputes_only_the_findings_of_changes_and_deployments_that_can_differ(wh, monkeypatch):
    # pay-1 and pay-2 list acme/pay#9, a change never reported; shop-1 ships nothing; web-1 ships its change
    def pay(i: int, event: str, minute: int, changes: list[str]) -> dict:
        return c.deployed(id=event, at=f"2026-03-0{i}T10:{minute:02d}:00Z", service="pay", deployment_id=f"pay-{i}",
                          repository="acme/pay", changes=changes)
    wh.load([pay(1, "p1", 0, ["acme/pay#9"]), pay(2, "p2", 0, ["acme/pay#9"]),
             c.deployed(id="s1", at="2026-03-02T11:00:00Z", service="shop", deployment_id="shop-1", repository="acme/shop"),
             c.merged(id="w0", at="2026-03-01T12:00:00Z", change="acme/web#1", repository="acme/web"),
             c.deployed(id="w1", at="2026-03-02T12:00:00Z", service="web", deployment_id="web-1", repository="acme/web",
                        changes=["acme/web#1"])])
    findings = ("SELECT finding, entity_id FROM dq_findings WHERE entity_type IN ('change', 'deployment') "
                "AND finding <> 'span_missing' ORDER BY ALL")  # none of these changes has a first commit or review
    assert wh.rows(findings) == [("change_unknown", "acme/pay#9"), ("change_unknown", "acme/pay#9"),
                                 ("deployment_without_changes", "shop-1")]
    scoped = spy_row_scopes(monkeypatch)
    findings_changes = spy_scope_rows(monkeypatch, "dq_findings",
                                      "SELECT change_id FROM build_scope.findings_changes ORDER BY 1")
    # pay-2's latest event lists acme/pay#1 instead, reported now: pay-2 no longer names acme/pay#9, whose
    # rows elsewhere are unchanged (its first delivery is pay-1's); a merge of shop's is reported, after
    # shop-1 finished (so shop-1 still ships nothing); web-1 is untouched
    wh.load([pay(2, "p2b", 5, ["acme/pay#1"]),
             c.merged(id="m1", at="2026-03-02T09:00:00Z", change="acme/pay#1", repository="acme/pay"),
             c.merged(id="s2", at="2026-03-03T09:00:00Z", change="acme/shop#2", repository="acme/shop")])
    keys = dict(wh.rows("SELECT deployment_id, deployment_key::VARCHAR FROM fct_deployments"))
    assert scoped["dq_findings"] == [keys["pay-2"]]
    assert findings_changes == [[("acme/pay#1",), ("acme/pay#9",), ("acme/shop#2",)]]
    assert wh.rows(findings) == [("change_not_deployed", "acme/shop#2"), ("change_unknown", "acme/pay#9"),
                                 ("deployment_without_changes", "shop-1")]
    assert_same_as_rebuilt(wh)


def test_re_staged_deployments_rebuild_the_deployments_whole(wh):
    wh.load([c.deployed(id="d1", at="2026-03-01T10:00:00Z", service="pay", deployment_id="pay-1"),
             c.deployed(id="d2", at="2026-03-02T10:00:00Z", service="pay", deployment_id="pay-2")])
    wh.con.execute("DELETE FROM stg_events WHERE deployment_id = 'pay-1'")  # as re-staging a rejected event
    wh.load([c.deployed(id="d3", at="2026-03-03T10:00:00Z", service="pay", deployment_id="pay-3")])
    assert wh.rows("SELECT deployment_id FROM fct_deployments ORDER BY 1") == [("pay-2",), ("pay-3",)]
    assert_same_as_rebuilt(wh)


def test_re_staged_change_reports_rebuild_the_row_scoped_models_whole(wh, monkeypatch):
    wh.load([c.merged(id="m1", at="2026-03-01T12:00:00Z", change="acme/pay#1", repository="acme/pay")])
    wh.con.execute("DELETE FROM stg_events WHERE kind = 'change_merged'")  # as re-staging does first
    by_row = []
    monkeypatch.setattr(metrics.build, "run_model_by_row", lambda con, name, params: by_row.append(name))
    wh.load([c.merged(id="m2", at="2026-03-02T12:00:00Z", change="acme/pay#2", repository="acme/pay")])
    assert by_row == []
    assert wh.rows("SELECT change_id FROM fct_changes") == [("acme/pay#2",)]
    assert_same_as_rebuilt(wh)
