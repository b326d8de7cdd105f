"""Properties of the event-log load over many generated logs, not case by case (hypothesis).

Every line is accounted for, whatever it holds; and how a log is split into files, and in what order
the files are loaded, does not change the warehouse. Bounded and derandomized: the same examples on
every run, in a few seconds.
"""
from __future__ import annotations

import json
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dora.jobs import run_eventlog_ingest
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings
from tools import cdevents as c

SETTINGS = settings(max_examples=8, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def valid_events() -> list[dict]:
    """One event of every recognised kind, plus an unknown custom type."""
    custom = c.deployed(id="x1", at="2026-03-02T10:00:00Z", service="pay")
    custom["context"]["type"] = "dev.cdeventsx.acme.audit.0.1.0"
    return [
        c.merged(id="m1", at="2026-03-02T08:00:00Z", change="acme/pay#1", first_commit_at="2026-03-01T10:00:00Z"),
        c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay", changes=["acme/pay#1"]),
        c.deployed(id="d2", at="2026-03-03T10:00:00Z", service="web"),
        c.rolledback(id="r1", at="2026-03-03T11:00:00Z", service="web"),
        c.incident_detected(id="i1", at="2026-03-04T10:30:00Z", incident="INC-1", service="pay"),
        c.incident_resolved(id="i2", at="2026-03-04T11:15:00Z", incident="INC-1"),
        custom,
    ]


def mutate(value, draw):
    """A JSON value with one part replaced by something a careless or hostile writer might put there."""
    if isinstance(value, dict) and value:
        key = draw(st.sampled_from(sorted(value)))
        choice = draw(st.integers(0, 2))
        if choice == 0:
            return {k: v for k, v in value.items() if k != key}
        if choice == 1:
            return {**value, key: draw(JUNK)}
        return {**value, key: mutate(value[key], draw)}
    if isinstance(value, list) and value:
        return [mutate(value[0], draw)] + value[1:]
    return draw(JUNK)


JUNK = st.one_of(st.none(), st.booleans(), st.integers(-2**63, 2**63), st.floats(allow_nan=False),
                 st.text(max_size=12), st.sampled_from(["", "all", "2026-02-30T00:00:00Z", "1999-01-01T00:00:00Z",
                                                        "\x1b[2J", "=HYPERLINK(\"x\")", "9999-12-31T23:59:60+14:00"]),
                 st.lists(st.text(max_size=3), max_size=2), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


@st.composite
def log_lines(draw) -> list[str]:
    """Lines of a log: valid events, mutated ones, arbitrary text and JSON, repeats."""
    events = valid_events()
    lines = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.integers(0, 4))
        if kind == 0:
            lines.append(json.dumps(draw(st.sampled_from(events))))
        elif kind in (1, 2):
            lines.append(json.dumps(mutate(draw(st.sampled_from(events)), draw)))
        elif kind == 3:
            lines.append(draw(st.text(max_size=40)).replace("\n", " ").replace("\r", " "))
        else:
            lines.append(json.dumps(draw(JUNK)))
    return lines


def load(tmp_path: Path, name: str, files: list[list[str]]) -> duckdb.DuckDBPyConnection:
    """A new warehouse with each list of lines loaded as its own file, one run per file."""
    folder = tmp_path / name
    folder.mkdir()
    con = open_warehouse(folder / "w.duckdb")
    for i, lines in enumerate(files):
        path = folder / f"part-{i}.jsonl"
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        run_eventlog_ingest(con, folder / "w.duckdb", [str(path)], MetricSettings())
    return con


@SETTINGS
@given(lines=log_lines())
def test_every_line_is_loaded_a_duplicate_or_rejected_and_nothing_crashes(tmp_path_factory, lines):
    folder = tmp_path_factory.mktemp("log")
    path = folder / "events.jsonl"
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    con = open_warehouse(folder / "w.duckdb")
    try:
        run = run_eventlog_ingest(con, folder / "w.duckdb", [str(path)], MetricSettings())
        c_ = run.counts
        read = sum(1 for line in lines if line.strip())
        assert c_.records == read
        assert c_.loaded + c_.duplicates + c_.rejected == read  # unknown types are among the loaded
        assert 0 <= c_.unknown_types <= c_.loaded
        stored = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
        assert stored == c_.rejected
    finally:
        con.close()


def snapshot_of(con: duckdb.DuckDBPyConnection) -> dict:
    """What a warehouse holds, without the run ids and files that differ between two ways of loading."""
    return {
        "raw": con.execute("SELECT source, event_id, event_type, occurred_at, payload FROM raw_events ORDER BY ALL").fetchall(),
        "metrics": con.execute("SELECT * FROM metric_periods ORDER BY ALL").fetchall(),
    }


@SETTINGS
@given(data=st.data())
def test_a_log_split_into_files_in_any_order_gives_the_same_warehouse(tmp_path_factory, data):
    events = valid_events()
    lines = [json.dumps(e) for e in events] + [json.dumps(data.draw(st.sampled_from(events)))]
    cuts = sorted(data.draw(st.lists(st.integers(0, len(lines)), max_size=3)))
    parts = [lines[a:b] for a, b in zip([0] + cuts, cuts + [len(lines)])]
    order = data.draw(st.permutations(range(len(parts))))
    folder = tmp_path_factory.mktemp("split")
    whole = load(folder, "whole", [lines])
    split = load(folder, "split", [parts[i] for i in order])
    try:
        assert snapshot_of(split) == snapshot_of(whole)
    finally:
        whole.close()
        split.close()
