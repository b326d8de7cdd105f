"""Event-log input rules of definitions version 2 (contract §1, §4), each with literal rows: timestamp
forms and plausible times, the BOM, the reserved service `all`, traffic_percent, at most one cause,
re-staging an older warehouse, empty files, JSON array files, and pipes as inputs.

"Now" is always a fixed instant passed to the ingest, so no test depends on today's date.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from tools import cdevents as c
from core.errors import InputError
from dora.config import load_config
from dora.jobs import run_job
from ingest import eventlog
from ingest.eventlog import TimeBounds, ingest_event_logs
from ingest.warehouse import open_warehouse
from tests.conftest import Warehouse

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
T0 = "2026-03-02T10:00:00Z"
DORA = Path(sys.executable).with_name("dora")


def deploy(id="d1", at=T0, **kw):
    kw.setdefault("service", "payments")
    return c.deployed(id=id, at=at, **kw)


def load(wh, events, *, now=NOW, bounds=TimeBounds(), path=None, notices=None):
    """Ingest `events` (or the file `path`) as `dora ingest events` does, with a fixed now."""
    paths = [str(path or wh.write(events))]
    run, _ = run_job(wh.con, wh.path, wh.settings, eventlog.ORIGIN, ", ".join(paths),
                     lambda run: ingest_event_logs(wh.con, paths, run, bounds=bounds, now=now,
                                                   on_notice=(notices if notices is not None else []).append))
    return run


def reasons(wh):
    return wh.rows("SELECT line_no, reason FROM rejects ORDER BY line_no")


# --------------------------------------------------------------------------------------------
# Timestamps


ACCEPTED_TIMES = [
    ("2026-03-02T10:00:00Z", "2026-03-02 10:00:00"),
    ("2026-03-02t10:00:00z", "2026-03-02 10:00:00"),           # lowercase t and z are RFC 3339
    ("2026-03-02T10:00:00.123456Z", "2026-03-02 10:00:00.123456"),
    ("2026-03-02 10:00:00Z", "2026-03-02 10:00:00"),            # RFC 3339 §5.6 allows a space
    ("2026-03-02T12:00:00+02:00", "2026-03-02 10:00:00"),
    ("2026-03-02T10:00:00-00:00", "2026-03-02 10:00:00"),
    ("2026-03-02T10:00:00+14:00", "2026-03-01 20:00:00"),       # Kiribati: the furthest offset
    ("2026-03-02T10:00:00-12:00", "2026-03-02 22:00:00"),
    ("2016-12-31T23:59:60Z", "2017-01-01 00:00:00"),            # a leap second: the next second
    ("2016-12-31T23:59:60.250Z", "2017-01-01 00:00:00.25"),
    ("2017-01-01T00:59:60+01:00", "2017-01-01 00:00:00"),
    ("2000-01-01T00:00:00Z", "2000-01-01 00:00:00"),            # the earliest plausible instant
    ("2026-03-03T12:00:00Z", "2026-03-03 12:00:00"),            # exactly 24 hours after now
]


@pytest.mark.parametrize("text,stored", ACCEPTED_TIMES, ids=[t for t, _ in ACCEPTED_TIMES])
def test_each_rfc3339_form_is_accepted_and_stored_in_utc(wh, text, stored):
    run = load(wh, [deploy(at=text)])
    assert (run.counts.loaded, run.counts.rejected) == (1, 0)
    assert wh.one("SELECT strftime(occurred_at, '%Y-%m-%d %H:%M:%S.%f') FROM stg_events").rstrip("0").rstrip(".") \
        == stored


NOT_RFC3339 = "is not an RFC 3339 timestamp with an offset"
TOO_LATE = "is more than 24 hours after the time of loading: not a plausible time"
TOO_EARLY = "is before 2000-01-01: not a plausible time"
BAD_OFFSET = "has an offset beyond ±14:00, which no place on Earth uses"

REJECTED_TIMES = [
    ("0001-01-01T00:00:00Z", TOO_EARLY),
    ("1900-01-01T00:00:00Z", TOO_EARLY),
    ("1970-01-01T00:00:00Z", TOO_EARLY),
    ("1999-12-31T23:59:59.999Z", TOO_EARLY),
    ("2026-03-03T12:00:00.001Z", TOO_LATE),
    ("2099-01-01T00:00:00Z", TOO_LATE),
    ("9999-12-31T23:59:59Z", TOO_LATE),
    ("2026-03-02T10:00:00+99:00", BAD_OFFSET),
    ("2026-03-02T10:00:00+14:01", BAD_OFFSET),
    ("2026-03-02T10:00:00-15:00", BAD_OFFSET),
    ("2026-03-02T10:00:00+05:99", NOT_RFC3339),
    ("2026-03-02T10:00:00+0200", NOT_RFC3339),
    ("2026-03-02T24:00:00Z", NOT_RFC3339),                      # ISO 8601's end of day, not RFC 3339
    ("2026-03-02T24:00:00.000Z", NOT_RFC3339),
    ("2026-03-02T10:00:61Z", NOT_RFC3339),
    ("2026-03-02T10:00:00", NOT_RFC3339),
    ("2026-02-30T10:00:00Z", NOT_RFC3339),
]


@pytest.mark.parametrize("text,why", REJECTED_TIMES, ids=[t for t, _ in REJECTED_TIMES])
def test_each_implausible_or_malformed_time_is_rejected_with_its_reason(wh, text, why):
    run = load(wh, [deploy("good"), deploy("bad", at=text)])
    assert (run.counts.loaded, run.counts.rejected) == (1, 1)
    assert reasons(wh) == [(2, f'context.timestamp "{text}" {why}')]


def test_customdata_times_meet_the_same_bounds(wh):
    load(wh, [c.merged(id="m1", at=T0, change="acme/x#1", first_commit_at="1970-01-01T00:00:00Z"),
              deploy("d1", started_at="2099-01-01T00:00:00Z"),
              c.merged(id="m2", at=T0, change="acme/x#2", opened_at="2026-03-01T10:00:00z")])
    assert reasons(wh) == [
        (1, f'customData.first_commit_at "1970-01-01T00:00:00Z" {TOO_EARLY}'),
        (2, f'customData.started_at "2099-01-01T00:00:00Z" {TOO_LATE}'),
    ]
    assert wh.one("SELECT opened_at FROM stg_events WHERE event_id = 'm2'") == datetime(2026, 3, 1, 10, tzinfo=timezone.utc)


def test_the_bounds_are_configurable(wh):
    bounds = TimeBounds(earliest=date(2026, 1, 1), max_future_hours=1)
    load(wh, [deploy("a", at="2025-12-31T23:59:59Z"), deploy("b", at="2026-01-01T00:00:00Z"),
              deploy("c", at="2026-03-02T13:00:00Z"), deploy("d", at="2026-03-02T13:00:01Z")], bounds=bounds)
    assert reasons(wh) == [
        (1, 'context.timestamp "2025-12-31T23:59:59Z" is before 2026-01-01: not a plausible time'),
        (4, 'context.timestamp "2026-03-02T13:00:01Z" is more than 1 hour after the time of loading: '
            'not a plausible time'),
    ]


def test_dora_toml_sets_the_bounds(tmp_path):
    toml = tmp_path / "dora.toml"
    toml.write_text('[eventlog]\nearliest = "2010-05-01"\nmax_future_hours = 2\n')
    assert load_config(toml, env={}).eventlog_bounds == TimeBounds(date(2010, 5, 1), 2)
    toml.write_text('[eventlog]\nearliest = "soon"\n')
    with pytest.raises(Exception, match=r'dora.toml:2: eventlog.earliest must be a date, e.g. "2000-01-01"'):
        load_config(toml, env={})


# --------------------------------------------------------------------------------------------
# BOM, reserved name, traffic, causes


def test_a_byte_order_mark_is_ignored_in_a_file_a_gz_file_and_stdin(wh):
    text = c.to_jsonl([deploy("a"), deploy("b", at="2026-03-02T11:00:00Z")]).encode()
    plain = wh.tmp_path / "bom.jsonl"
    plain.write_bytes(eventlog.BOM + text)
    packed = wh.tmp_path / "bom.jsonl.gz"
    packed.write_bytes(gzip.compress(eventlog.BOM + c.to_jsonl([deploy("c")]).encode()))
    run = load(wh, None, path=plain)
    assert (run.counts.loaded, run.counts.rejected) == (2, 0)
    run = load(wh, None, path=packed)
    assert (run.counts.loaded, run.counts.rejected) == (1, 0)
    db = wh.tmp_path / "stdin.duckdb"
    out = subprocess.run([str(DORA), "ingest", "events", "-", "--db", str(db)], input=eventlog.BOM + text,
                         capture_output=True)
    assert out.returncode == 0, out.stderr
    assert b"2 new events loaded" in out.stderr and b"0 rejected" in out.stderr


def test_a_bom_later_in_the_file_is_not_skipped(wh):
    lines = c.to_jsonl([deploy("a")]).encode() + eventlog.BOM + c.to_jsonl([deploy("b")]).encode()
    path = wh.tmp_path / "mid.jsonl"
    path.write_bytes(lines)
    load(wh, None, path=path)
    assert reasons(wh) == [(2, "not valid JSON")]


def test_the_service_name_all_is_reserved(wh):
    load(wh, [
        deploy("d1", service="all"),
        c.rolledback(id="r1", at=T0, service="all"),
        c.incident_detected(id="i1", at=T0, incident="INC-1", service="all"),
        c.pipelinerun(id="p1", at=T0, run="run-1", pipeline="build", service="all", outcome="success"),
        deploy("d2", service="All"),        # services are not normalised: "All" is another name
        deploy("d3", service="all-payments"),
    ])
    reserved = 'the service name "all" is reserved for the totals of every service: '
    assert reasons(wh) == [
        (1, reserved + "subject.id must name another service"),
        (2, reserved + "subject.id must name another service"),
        (3, reserved + "subject.content.service.id must name another service"),
        (4, reserved + "customData.service must name another service"),
    ]
    assert wh.rows("SELECT service FROM stg_events ORDER BY 1") == [("All",), ("all-payments",)]


def test_traffic_percent_is_staged_and_checked(wh):
    run = load(wh, [
        deploy("a", traffic_percent=5),
        deploy("b", traffic_percent=37.5, kind="service.upgraded"),
        deploy("c", traffic_percent=0),
        deploy("d", traffic_percent=100),
        deploy("e"),                                   # absent: NULL, read as 100
        json.dumps(deploy("f", traffic_percent=None) | {"customData": {"traffic_percent": None}}),
        deploy("g", traffic_percent=101),
        deploy("h", traffic_percent=-1),
        deploy("i", traffic_percent="50"),
        deploy("j", traffic_percent=True),
    ])
    assert (run.counts.loaded, run.counts.rejected) == (6, 4)
    assert wh.rows("SELECT event_id, traffic_percent FROM stg_events ORDER BY 1") == [
        ("a", 5.0), ("b", 37.5), ("c", 0.0), ("d", 100.0), ("e", None), ("f", None)]
    assert reasons(wh) == [(n, "customData.traffic_percent is not a number from 0 to 100") for n in (7, 8, 9, 10)]


def test_an_incident_names_at_most_one_cause(wh):
    run = load(wh, [
        c.incident_detected(id="i1", at=T0, incident="INC-1", service="payments", caused_by_change="acme/payments#75"),
        c.incident_detected(id="i2", at=T0, incident="INC-2", service="payments", caused_by_deployment="d9"),
        c.incident_detected(id="i3", at=T0, incident="INC-3", service="payments"),
        c.incident_detected(id="i4", at=T0, incident="INC-4", service="payments", caused_by_change="",
                            kind="incident.reported"),
        c.incident_detected(id="i5", at=T0, incident="INC-5", service="payments",
                            caused_by_change="acme/payments#75", caused_by_commit="9f2c"),
        c.incident_detected(id="i6", at=T0, incident="INC-6", service="payments",
                            caused_by_deployment="d9", caused_by_change="acme/payments#75", caused_by_commit="9f2c"),
    ])
    assert (run.counts.loaded, run.counts.rejected) == (4, 2)
    assert wh.rows("SELECT event_id, caused_by_deployment, caused_by_change, caused_by_commit, cause_rule "
                   "FROM stg_events ORDER BY 1") == [
        ("i1", None, "acme/payments#75", None, "event field"),
        ("i2", "d9", None, None, "event field"),
        ("i3", None, None, None, None),
        ("i4", None, None, None, None),            # an empty cause names none
    ]
    two = ("an incident names at most one cause: customData has more than one of "
           "caused_by_deployment, caused_by_change, caused_by_commit")
    assert reasons(wh) == [(5, two), (6, two)]


def test_reasons_name_json_types_in_plain_words(wh):
    load(wh, [deploy("a"), '"text"', "42", "4.5", "true", "null", "[1]"])
    assert [r for _, r in reasons(wh)] == [
        f"not a CDEvent: the line is a JSON {kind}, not an object"
        for kind in ("string", "number", "number", "true or false", "null", "array")]


# --------------------------------------------------------------------------------------------
# Whole files: empty, a JSON document, pipes


def test_an_empty_file_is_reported_not_silent(wh):
    empty, blank = wh.tmp_path / "empty.jsonl", wh.tmp_path / "blank.jsonl"
    empty.write_bytes(b"")
    blank.write_bytes(b"\n  \r\n\n")
    notices: list[str] = []
    for path in (empty, blank):
        run = load(wh, None, path=path, notices=notices)
        assert (run.counts.records, run.counts.rejected) == (0, 0)
    assert notices == [f"nothing was read from {empty}: it is empty or has only blank lines",
                       f"nothing was read from {blank}: it is empty or has only blank lines"]
    out = subprocess.run([str(DORA), "ingest", "events", str(empty), "--db", str(wh.tmp_path / "cli.duckdb")],
                         capture_output=True, text=True)
    assert out.returncode == 0
    assert f"nothing was read from {empty}: it is empty or has only blank lines" in out.stderr


@pytest.mark.parametrize("text,fix", [
    ("[\n  {\"context\": {}},\n  {\"context\": {}}\n]\n", "jq -c '.[]'"),
    ("\ufeff\n[{\"context\": {},\n\"subject\": {}}]\n", "jq -c '.[]'"),
    ("{\n  \"context\": {}\n}\n", "jq -c ."),
])
def test_a_json_document_is_refused_whole_with_the_fix(wh, text, fix):
    good = wh.write([deploy("a")])
    path = wh.tmp_path / "events.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="not JSON Lines") as info:
        load(wh, None, path=path)
    assert f"convert it with: {fix} {path}" in str(info.value)
    assert wh.one("SELECT count(*) FROM raw_events") == 0
    out = subprocess.run([str(DORA), "ingest", "events", str(good), str(path), "--db", str(wh.tmp_path / "c.duckdb")],
                         capture_output=True, text=True)
    assert out.returncode == 1
    assert out.stderr.count("\n") == 1 and "looks like a" in out.stderr


def test_a_one_line_array_in_a_log_is_one_reject(wh):
    run = load(wh, ['[{"context": {}}]', deploy("a")])
    assert (run.counts.loaded, run.counts.rejected) == (1, 1)


def test_dev_stdin_and_a_pipe_are_read_as_streams(tmp_path):
    log = tmp_path / "ok.jsonl"
    log.write_text(c.to_jsonl([deploy("a"), deploy("b", at="2026-03-02T11:00:00Z")]))
    with open(log, "rb") as stdin:
        out = subprocess.run([str(DORA), "ingest", "events", "/dev/stdin", "--db", str(tmp_path / "a.duckdb")],
                             stdin=stdin, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "2 new events loaded" in out.stderr
    read, write = os.pipe()
    os.write(write, log.read_bytes())
    os.close(write)
    out = subprocess.run([str(DORA), "ingest", "events", f"/dev/fd/{read}", "--db", str(tmp_path / "b.duckdb")],
                         pass_fds=(read,), capture_output=True, text=True)
    os.close(read)
    assert out.returncode == 0, out.stderr
    assert "2 new events loaded" in out.stderr


# --------------------------------------------------------------------------------------------
# Re-staging a warehouse made by older staging rules


def test_an_older_warehouse_is_restaged_once_and_equals_a_fresh_load(tmp_path):
    events = [
        deploy("d1", at="2026-03-01T10:00:00Z", traffic_percent=5, deployment_id="dep-1"),
        deploy("d2", at="2026-03-01T11:00:00Z", traffic_percent=100, deployment_id="dep-1", kind="service.upgraded"),
        c.incident_detected(id="i1", at="2026-03-01T12:00:00Z", incident="INC-1", service="payments",
                            caused_by_change="acme/payments#75"),
        c.incident_resolved(id="i1r", at="2026-03-01T13:00:00Z", incident="INC-1"),
        deploy("old", at="1970-01-01T00:00:00Z"),       # accepted by version 1, rejected now
        deploy("allsvc", service="all", at="2026-03-01T09:00:00Z"),
    ]
    fresh = Warehouse(tmp_path / "fresh")
    load(fresh, events)

    old = Warehouse(tmp_path / "old")
    load(old, events)
    # make it look like a version-1 warehouse: columns missing, no version row, the v1-accepted rows stored
    for col in ("traffic_percent", "caused_by_change", "cause_rule"):
        old.con.execute(f"ALTER TABLE stg_events DROP COLUMN {col}")
    old.con.execute("DELETE FROM staging_versions")
    old.con.execute("DELETE FROM rejects")
    fresh_raw = old.rows("SELECT payload FROM raw_events")
    old.con.execute("INSERT INTO raw_events (origin, source, event_id, event_type, occurred_at, payload, "
                    "ingest_run_id, file, line_no) SELECT 'eventlog', '/sample/pipeline', event_id, NULL, NULL, "
                    "payload, 1, 'events-1.jsonl', line_no FROM (VALUES ('old', ?, 5), ('allsvc', ?, 6)) v(event_id, payload, line_no)",
                    [json.dumps(events[4], separators=(",", ":")), json.dumps(events[5], separators=(",", ":"))])
    old.con.close()

    old.con = open_warehouse(old.path)     # re-open: the columns come back empty
    assert old.one("SELECT count(*) FROM stg_events WHERE traffic_percent IS NOT NULL") == 0
    run = load(old, [deploy("d1", at="2026-03-01T10:00:00Z", traffic_percent=5, deployment_id="dep-1")])
    assert run.counts.duplicates == 1
    assert run.counts.rejected == 2                # the stored rows the new rules reject, reported
    staged = ("SELECT event_id, kind, occurred_at, service, traffic_percent, caused_by_change, cause_rule "
              "FROM stg_events ORDER BY event_id")
    assert old.rows(staged) == fresh.rows(staged)
    assert old.rows("SELECT event_id FROM raw_events ORDER BY 1") == fresh.rows("SELECT event_id FROM raw_events ORDER BY 1")
    assert sorted(old.rows("SELECT line_no, reason FROM rejects")) == sorted(fresh.rows("SELECT line_no, reason FROM rejects"))
    for table in ("fct_deployments", "fct_incidents", "metric_periods"):
        assert old.rows(f"SELECT * FROM {table} ORDER BY ALL") == fresh.rows(f"SELECT * FROM {table} ORDER BY ALL")
    assert old.one("SELECT version FROM staging_versions") == eventlog.STAGING_VERSION
    assert len(fresh_raw) == 4

    # idempotent: the next run re-stages nothing
    before = old.rows(staged + ", ingest_run_id")
    run = load(old, [])
    assert run.counts.rejected == 0
    assert old.rows(staged + ", ingest_run_id") == before


def test_a_warehouse_that_staged_custom_data_lets_that_copy_go_and_keeps_the_rest(tmp_path):
    # customData used to be staged a second time (stg_events.custom_data), read by nothing; a warehouse
    # opened now drops that column, keeps every other staged value, and the payload still holds it
    wh = Warehouse(tmp_path)
    load(wh, [deploy("d1", commit="abc123", deployment_id="dep-1")])
    wh.con.execute("ALTER TABLE stg_events ADD COLUMN custom_data JSON")
    wh.con.execute("""UPDATE stg_events SET custom_data = '{"commit": "abc123"}'""")
    staged = wh.rows("SELECT * EXCLUDE (custom_data) FROM stg_events ORDER BY ALL")
    wh.con.close()

    wh.con = open_warehouse(wh.path)
    columns = [r[0] for r in wh.rows("SELECT column_name FROM duckdb_columns() WHERE table_name = 'stg_events'")]
    assert "custom_data" not in columns and "commit_sha" in columns
    assert wh.rows("SELECT * FROM stg_events ORDER BY ALL") == staged
    assert wh.one("SELECT payload::JSON ->> '$.customData.commit' FROM raw_events") == "abc123"
    run = load(wh, [deploy("d2", at="2026-03-02T11:00:00Z", deployment_id="dep-2")])
    assert run.counts.loaded == 1 and wh.one("SELECT count(*) FROM stg_events") == 2
