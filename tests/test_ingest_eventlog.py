"""The event-log ingestor (contract §1): what is loaded, what is rejected and why, and re-runs."""
from __future__ import annotations

import gc
import gzip
import json

import duckdb
import pyarrow as pa
import pytest

from tools import cdevents as c
from dora.jobs import run_eventlog_ingest
from ingest.eventlog import ingest_event_logs, read_line_chunks
from ingest.warehouse import register_table

T0 = "2026-03-02T10:00:00Z"


def deploy(id="d1", at=T0, **kw):
    kw.setdefault("service", "payments")
    return c.deployed(id=id, at=at, **kw)


def valid_context(**overrides):
    ctx = {"specversion": "0.4.1", "id": "x1", "source": "/ci", "type": "dev.cdevents.service.deployed.0.3.0",
           "timestamp": T0}
    ctx.update(overrides)
    return ctx


def line(obj) -> str:
    return json.dumps(obj)


BAD_LINES = [
    ("not json at all", "not valid JSON"),
    ('{"context": {"id": "x"', "not valid JSON"),
    ("[1, 2, 3]", "not a CDEvent: the line is a JSON array, not an object"),
    ('"a string"', "not a CDEvent: the line is a JSON string, not an object"),
    ("42", "not a CDEvent: the line is a JSON number, not an object"),
    (line({"subject": {"id": "s"}}), 'not a CDEvent: no "context" object'),
    (line({"context": "x", "subject": {}}), 'not a CDEvent: "context" is not an object'),
    (line({"context": valid_context(id=None), "subject": {"id": "s"}}), "not a CDEvent: missing context.id"),
    (line({"context": valid_context(id=""), "subject": {"id": "s"}}), "not a CDEvent: missing context.id"),
    (line({"context": valid_context(source=None), "subject": {"id": "s"}}), "not a CDEvent: missing context.source"),
    (line({"context": valid_context(type=None), "subject": {"id": "s"}}), "not a CDEvent: missing context.type"),
    (line({"context": valid_context(type="com.example.deployed"), "subject": {"id": "s"}}),
     'not a CDEvent: context.type "com.example.deployed" is not dev.cdevents.*'),
    (line({"context": valid_context(timestamp=None), "subject": {"id": "s"}}), "not a CDEvent: missing context.timestamp"),
    (line({"context": valid_context(timestamp="yesterday"), "subject": {"id": "s"}}),
     'context.timestamp "yesterday" is not an RFC 3339 timestamp with an offset'),
    (line({"context": valid_context(timestamp="2026-03-02T10:00:00"), "subject": {"id": "s"}}),
     'context.timestamp "2026-03-02T10:00:00" is not an RFC 3339 timestamp with an offset'),
    (line({"context": valid_context(timestamp="2026-13-40T10:00:00Z"), "subject": {"id": "s"}}),
     'context.timestamp "2026-13-40T10:00:00Z" is not an RFC 3339 timestamp with an offset'),
    (line({"context": valid_context(), "subject": {"content": {"environment": {"id": "prod"}}}}),
     "service.deployed needs subject.id"),
    (line({"context": valid_context(), "subject": {"id": "payments", "content": {}}}),
     "service.deployed needs subject.content.environment.id"),
    (line({"context": valid_context(type="dev.cdevents.service.rolledback.0.3.0"), "subject": {"id": "payments"}}),
     "service.rolledback needs subject.content.environment.id"),
    (line({"context": valid_context(type="dev.cdevents.incident.detected.0.3.0"), "subject": {"id": "INC-1"}}),
     "incident.detected needs subject.content.environment.id"),
    (line({"context": valid_context(type="dev.cdevents.change.merged.0.3.0"), "subject": {}}),
     "change.merged needs subject.id"),
    (line({"context": valid_context(), "subject": {"id": "p", "content": {"environment": {"id": "prod"}}},
           "customData": {"started_at": "noon"}}),
     'customData.started_at "noon" is not an RFC 3339 timestamp with an offset'),
    (line({"context": valid_context(type="dev.cdevents.change.merged.0.3.0"), "subject": {"id": "a/b#1"},
           "customData": {"first_commit_at": "2026-02-30T00:00:00Z"}}),
     'customData.first_commit_at "2026-02-30T00:00:00Z" is not an RFC 3339 timestamp with an offset'),
    (line({"context": valid_context(), "subject": {"id": "p", "content": {"environment": {"id": "prod"}}},
           "customData": {"changes": "a/b#1"}}),
     "customData.changes is not a list of change ids"),
    (line({"context": valid_context(), "subject": {"id": "p", "content": {"environment": {"id": "prod"}}},
           "customData": {"unplanned": "yes"}}),
     "customData.unplanned is not true or false"),
    (line({"context": valid_context(type="dev.cdevents.change.merged.0.3.0"), "subject": {"id": "a/b#1"},
           "customData": {"additions": "many"}}),
     "customData.additions is not a whole number"),
]


@pytest.mark.parametrize("text,reason", BAD_LINES, ids=[r for _, r in BAD_LINES])
def test_each_kind_of_bad_line_is_rejected_with_its_reason_and_the_rest_loads(wh, text, reason):
    run = wh.load([deploy("good-1"), text, deploy("good-2", at="2026-03-02T11:00:00Z")])
    assert run.counts.rejected == 1
    assert run.counts.loaded == 2
    assert wh.rows("SELECT line_no, raw, reason FROM rejects") == [(2, text, reason)]
    assert wh.one("SELECT count(*) FROM fct_deployments") == 2


def test_invalid_utf8_rejects_only_its_own_line(wh):
    path = wh.tmp_path / "mixed.jsonl"
    good = c.to_jsonl([deploy("a"), deploy("b", at="2026-03-02T11:00:00Z")]).encode().split(b"\n")
    path.write_bytes(good[0] + b"\n" + b'{"bad": "\xff\xfe"}\n' + good[1] + b"\n")
    run = run_eventlog_ingest(wh.con, wh.path, [str(path)], wh.settings)
    assert (run.counts.loaded, run.counts.rejected) == (2, 1)
    assert wh.rows("SELECT line_no, reason FROM rejects") == [(2, "not valid UTF-8")]


def test_blank_lines_are_ignored_and_line_numbers_stay_physical(wh):
    run = wh.load(["", deploy("a"), "   ", "", "oops"])
    assert run.counts.records == 2
    assert wh.rows("SELECT line_no FROM rejects") == [(5,)]
    assert wh.rows("SELECT line_no FROM raw_events") == [(2,)]


def test_crlf_line_endings_are_accepted(wh):
    path = wh.tmp_path / "crlf.jsonl"
    path.write_bytes(c.to_jsonl([deploy("a"), deploy("b")]).replace("\n", "\r\n").encode())
    run = run_eventlog_ingest(wh.con, wh.path, [str(path)], wh.settings)
    assert (run.counts.loaded, run.counts.rejected) == (2, 0)


def test_payload_is_stored_unchanged(wh):
    text = line(deploy("a")) .replace(",", ", ")
    wh.load([text])
    assert wh.one("SELECT payload FROM raw_events") == text


def test_cloudevent_wrapped_cdevent_is_unwrapped(wh):
    wh.load([c.wrap_cloudevent(deploy("wrapped", service="search"))])
    assert wh.one("SELECT service || '/' || deployment_id FROM fct_deployments") == "search/wrapped"


def test_any_0x_version_of_a_type_is_the_same_kind(wh):
    events = [c.make_event("service.deployed", id=f"v{v}", at=T0, subject_id="payments", version=v,
                           content={"environment": {"id": "production"}}) for v in ("0.3.0", "0.4.0", "0.1.2")]
    wh.load(events)
    assert wh.one("SELECT count(*) FROM fct_deployments") == 3


def test_unknown_and_custom_types_are_kept_raw_and_ignored(wh):
    events = [
        c.make_event("change.created", id="u1", at=T0, subject_id="a/b#1"),
        c.make_event("artifact.published", id="u2", at=T0, subject_id="pkg"),
        {**c.make_event("x", id="u3", at=T0, subject_id="s"),
         "context": {**c.make_event("x", id="u3", at=T0, subject_id="s")["context"],
                     "type": "dev.cdeventsx.acme-gate.passed.0.1.0"}},
        deploy("d1"),
    ]
    run = wh.load(events)
    assert (run.counts.loaded, run.counts.unknown_types, run.counts.rejected) == (4, 3, 0)
    assert wh.one("SELECT count(*) FROM raw_events") == 4
    assert wh.one("SELECT count(*) FROM stg_events") == 1


def test_same_source_and_id_twice_is_one_event_and_the_first_copy_wins(wh):
    first = deploy("same", service="payments")
    later = deploy("same", service="checkout")  # same (source, id), different content: ignored
    run = wh.load([first, later])
    assert (run.counts.loaded, run.counts.duplicates) == (1, 1)
    assert wh.one("SELECT service FROM fct_deployments") == "payments"


def test_same_id_from_another_source_is_another_event(wh):
    wh.load([deploy("same", source="/ci/a"), deploy("same", source="/ci/b", deployment_id="other")])
    assert wh.one("SELECT count(*) FROM raw_events") == 2


def test_reloading_a_file_changes_nothing(wh):
    events = [deploy("a"), c.merged(id="m", at="2026-03-01T10:00:00Z", change="acme/payments#1"),
              "garbage", c.incident_detected(id="i", at="2026-03-02T11:00:00Z", incident="INC", service="payments")]
    path = wh.write(events)
    tables = ["raw_events", "stg_events", "rejects", "fct_deployments", "fct_incidents", "fct_failures",
              "metric_periods", "dq_findings"]

    def snapshot():
        return {t: wh.rows(f"SELECT * FROM {t} ORDER BY ALL") for t in tables}

    run_eventlog_ingest(wh.con, wh.path, [str(path)], wh.settings)
    before = snapshot()
    again = run_eventlog_ingest(wh.con, wh.path, [str(path)], wh.settings)
    assert (again.counts.loaded, again.counts.duplicates, again.counts.rejected) == (0, 3, 1)
    assert snapshot() == before
    assert wh.rows("SELECT outcome FROM ingest_runs ORDER BY run_id") == [("rejects",), ("rejects",)]


def test_overlapping_files_and_out_of_order_lines_give_the_same_facts_as_one_sorted_file(tmp_path):
    from tests.conftest import Warehouse

    events = [deploy(f"d{i}", at=f"2026-03-0{i}T10:00:00Z", changes=[f"acme/payments#{i}"]) for i in range(1, 6)]
    events += [c.merged(id=f"m{i}", at=f"2026-03-0{i}T09:00:00Z", change=f"acme/payments#{i}") for i in range(1, 6)]
    one = Warehouse(tmp_path / "one")
    one.load(events)
    (tmp_path / "two").mkdir()
    two = Warehouse(tmp_path / "two")
    shuffled = list(reversed(events))
    two.load(shuffled[:7])
    two.load(shuffled[3:])
    q = "SELECT * EXCLUDE (deployment_key) FROM fct_deployments ORDER BY deployment_id"
    assert one.rows(q) == two.rows(q)
    q = "SELECT * EXCLUDE (deployment_key) FROM fct_lead_times ORDER BY change_id"
    assert one.rows(q) == two.rows(q)


def test_gzip_and_several_files_in_one_run(wh):
    plain = wh.write([deploy("a")])
    packed = wh.tmp_path / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(c.to_jsonl([deploy("b"), deploy("c")]).encode()))
    run = run_eventlog_ingest(wh.con, wh.path, [str(plain), str(packed)], wh.settings)
    assert run.counts.loaded == 3
    assert wh.rows("SELECT DISTINCT file FROM raw_events ORDER BY 1") == sorted([(str(plain),), (str(packed),)])


def test_chunks_split_at_line_ends_with_continuous_line_numbers():
    import io

    text = "".join(f'{{"n": {i}}}\n' for i in range(1, 101))
    chunks = list(read_line_chunks(io.BytesIO(text.encode()), "f", chunk_bytes=64))
    numbers = [n for table, _ in chunks for n in table.column("line_no").to_pylist()]
    raws = [r for table, _ in chunks for r in table.column("raw").to_pylist()]
    assert numbers == list(range(1, 101))
    assert raws == [f'{{"n": {i}}}' for i in range(1, 101)]


def test_a_line_longer_than_a_chunk_is_read_whole():
    import io

    long = '{"pad": "' + "x" * 500 + '"}'
    chunks = list(read_line_chunks(io.BytesIO((long + "\nshort\n").encode()), "f", chunk_bytes=64))
    assert [r for t, _ in chunks for r in t.column("raw").to_pylist()] == [long, "short"]


def test_missing_final_newline_still_reads_the_last_line(wh):
    path = wh.tmp_path / "nonl.jsonl"
    path.write_text(c.to_jsonl([deploy("a"), deploy("b")]).rstrip("\n"))
    run = run_eventlog_ingest(wh.con, wh.path, [str(path)], wh.settings)
    assert run.counts.loaded == 2


def test_a_failing_run_writes_nothing_but_its_failed_run_record(wh, monkeypatch):
    import metrics.build

    wh.load([deploy("a")])
    before = wh.rows("SELECT * FROM raw_events ORDER BY ALL")

    def explode(con, settings, **_):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr("dora.jobs.build_metrics", explode)
    with pytest.raises(RuntimeError):
        wh.load([deploy("b"), "junk"])
    assert wh.rows("SELECT * FROM raw_events ORDER BY ALL") == before
    assert wh.one("SELECT count(*) FROM rejects") == 0
    assert wh.rows("SELECT outcome, message FROM ingest_runs ORDER BY run_id") == [
        ("ok", None), ("failed", "disk on fire")]


def test_stage_columns_from_customdata(wh):
    wh.load([
        deploy("d", commit="abc123", repository="acme/payments", changes=["acme/payments#7"],
               started_at="2026-03-02T09:50:00+01:00", unplanned=True, environment="Prod"),
        c.merged(id="m", at="2026-03-01T12:00:00Z", change="acme/payments#7", first_commit_at="2026-02-27T08:00:00Z",
                 opened_at="2026-02-28T08:00:00Z", first_review_at="2026-03-01T09:00:00Z",
                 merged_at="2026-03-01T11:59:00Z", commit="fff", additions=10, deletions=3, author="ana", title="Fix"),
    ])
    assert wh.rows("""SELECT commit_sha, repository, change_ids, started_at::VARCHAR, unplanned, environment
                      FROM stg_events WHERE kind = 'deployment'""") == [
        ("abc123", "acme/payments", ["acme/payments#7"], "2026-03-02 08:50:00+00", True, "Prod")]
    assert wh.rows("""SELECT merged_at::VARCHAR, additions, deletions, author, title, commit_sha
                      FROM stg_events WHERE kind = 'change_merged'""") == [
        ("2026-03-01 11:59:00+00", 10, 3, "ana", "Fix", "fff")]


def test_a_registered_table_is_let_go_when_its_block_ends_inside_a_transaction():
    # DuckDB keeps a dropped view until commit: a run must not hold every chunk it registered.
    con = duckdb.connect()
    con.execute("BEGIN TRANSACTION")
    before = pa.total_allocated_bytes()
    chunk = pa.table({"raw": pa.array([f"line {i}" for i in range(100_000)])})
    assert pa.total_allocated_bytes() > before
    with register_table(con, "chunk_lines", chunk):
        assert con.execute("SELECT count(*), max(raw) FROM chunk_lines").fetchall() == [(100_000, "line 99999")]
    del chunk
    gc.collect()
    assert pa.total_allocated_bytes() == before
    with pytest.raises(duckdb.CatalogException):
        con.execute("SELECT * FROM chunk_lines").fetchall()
    con.execute("COMMIT")
