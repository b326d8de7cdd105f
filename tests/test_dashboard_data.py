"""dashboard/data.py: reads only the snapshot, never blocks a writer, sees new data without a restart,
and returns the metrics layer's numbers and the records behind them."""
from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest
import streamlit as st

from dashboard import data
from dora.jobs import run_eventlog_ingest
from dora.jobs_context import run_annotation_add
from tools import cdevents
from ingest.warehouse import open_warehouse, publish_snapshot
from metrics import compare, levels
from metrics.build import MetricSettings
from metrics.export import Filters, query_summary
from metrics.filters import NO_TEAM, Team
from tests.test_dashboard_fixture import build_warehouse, fixture_db, later_events  # noqa: F401


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def summary_of(db, **filters):
    con = open_warehouse(db, read_only=True)
    try:
        return query_summary(con, Filters(**filters), MetricSettings())
    finally:
        con.close()


def test_locate_warehouse_takes_db_after_double_dash_else_dora_db_else_the_default(monkeypatch, tmp_path):
    monkeypatch.setenv("DORA_DB", str(tmp_path / "from-env.duckdb"))
    assert data.locate_warehouse(["--db", str(tmp_path / "flag.duckdb")]) == tmp_path / "flag.duckdb"
    assert data.locate_warehouse([]) == tmp_path / "from-env.duckdb"
    assert data.locate_warehouse([], env={}) == Path("data/dora.duckdb")


def test_no_snapshot_until_a_writer_publishes_one(tmp_path):
    assert data.find_snapshot(tmp_path / "dora.duckdb") is None
    db = build_warehouse(tmp_path)
    snap = data.find_snapshot(db)
    assert snap.path == str((tmp_path / "dora.snapshot.duckdb").resolve())
    assert data.load_status(snap).has_metrics


def test_status_lists_environments_production_first_and_the_data_range(fixture_db):
    status = data.load_status(data.find_snapshot(fixture_db))
    assert status.environments == ("production", "staging")
    assert status.services == {"production": ("payments", "search"), "staging": ("search",)}
    assert (status.first_day, status.last_day) == (date(2026, 4, 6), date(2026, 6, 1))
    assert status.settings == MetricSettings()


def test_summary_is_the_export_and_keeps_several_services_apart(fixture_db):
    snap = data.find_snapshot(fixture_db)
    whole = data.load_summary(snap, data.View(grain="month"))
    assert whole.equals(summary_of(fixture_db, grain="month"))
    both = data.load_summary(snap, data.View(grain="month", services=("payments", "search")))
    assert both.equals(summary_of(fixture_db, grain="month", by_service=True))
    one = data.load_summary(snap, data.View(grain="month", services=("search",)))
    assert one.equals(summary_of(fixture_db, grain="month", service="search"))
    assert set(one["service"]) == {"search"}


def test_the_cards_baseline_is_read_once_for_every_period_it_is_compared_with(fixture_db, monkeypatch):
    """load_baseline_comparison gives compare_windows' rows, and reads the baseline window once for
    every current window it is compared with (a period at another grain, prefetched)."""
    data._read_baseline.clear()
    snap = data.find_snapshot(fixture_db)
    status = data.load_status(snap)
    baseline = (status.first_day, status.first_day + timedelta(days=30))
    currents = [(status.last_day - timedelta(days=6), status.last_day), (status.last_day.replace(day=1), status.last_day)]
    con = open_warehouse(snap.path, read_only=True)
    try:
        expected = [compare.compare_windows(con, compare.Window(*baseline), compare.Window(*current), MetricSettings(),
                                            compare.Scope(), specs=data.CARD_COMPARISONS) for current in currents]
    finally:
        con.close()
    reads = []
    read_windows = compare.read_windows
    monkeypatch.setattr(compare, "read_windows", lambda con, windows, *rest: reads.append(windows) or read_windows(
        con, windows, *rest))
    for current, rows in zip(currents, expected):
        frame, reason = data.load_baseline_comparison(snap, baseline, current, compare.Scope(), "production")
        assert reason is None and frame.equals(rows)
    assert [list(windows) for windows in reads] == [["before"], ["after"], ["after"]]


def test_a_team_s_levels_are_the_cli_s_classified_from_the_cards_figures(fixture_db, monkeypatch):
    """A team's levels are `dora export --table levels --team`'s, classified from the figures the
    team's cards already read (load_summary), not computed a second time."""
    teams = (Team("checkout", ("payments",)),)
    snap = data.find_snapshot(fixture_db)
    con = open_warehouse(snap.path, read_only=True)
    try:
        expected = {grain: levels.query_levels(con, Filters(grain=grain, team="checkout", teams=teams),
                                               MetricSettings()) for grain in ("week", "month", "quarter")}
    finally:
        con.close()
    monkeypatch.setattr(levels, "query_team_figures", lambda *args: pytest.fail("team figures computed twice"))
    for grain, rows in expected.items():
        view = data.View(grain=grain, team="checkout", teams=teams)
        assert not rows.empty
        assert data.load_levels(snap, view).equals(rows), grain


@pytest.mark.parametrize("teams", [
    (Team("checkout", ("payments",)),),                                   # search in no team
    (Team("checkout", ("payments",)), Team("discovery", ("search", "gone"))),  # every service in a team
])
def test_a_picked_team_s_figures_read_with_every_team_s_are_those_it_has_alone(fixture_db, monkeypatch, teams):
    """prefetch_picks reads every team's figures and levels in one pass; a team picked afterwards gets
    exactly the rows reading it alone gives (`dora export --team`), without reading them again; "no
    team", listed among every team only when a service has none, is read alone otherwise."""
    snap = data.find_snapshot(fixture_db)
    con = open_warehouse(snap.path, read_only=True)
    names = [t.name for t in teams] + [NO_TEAM]
    try:
        alone = {(grain, name): query_summary(con, Filters(grain=grain, team=name, teams=teams), MetricSettings())
                 for grain in data.GRAINS for name in names}
        alone_levels = {(grain, name): levels.query_levels(con, Filters(grain=grain, team=name, teams=teams),
                                                           MetricSettings())
                        for grain in ("week", "month", "quarter") for name in names}
    finally:
        con.close()
    data.prefetch_picks(snap, data.View(grain="month", teams=teams))  # the grain the page is drawn at
    assert data.wait_for_prefetch(timeout=60)
    for grain in ("week", "quarter", "day"):  # as a page drawn at those would
        data.read_every_team(snap, data.View(grain=grain, teams=teams))
    listed = set(data.load_every_team_summary(snap, data.View(teams=teams))["team"])
    read_alone = []
    real_query = data.query_summary
    monkeypatch.setattr(data, "query_summary", lambda con, filters, settings: read_alone.append(filters.team) or
                        real_query(con, filters, settings))
    for (grain, name), rows in alone.items():
        view = data.View(grain=grain, team=name, teams=teams)
        assert not rows.empty
        assert data.load_summary(snap, view).equals(rows), (grain, name)
        if (grain, name) in alone_levels:
            assert data.load_levels(snap, view).equals(alone_levels[grain, name]), (grain, name)
    assert set(read_alone) == ({NO_TEAM} if NO_TEAM not in listed else set())
    assert (NO_TEAM in listed) == (len(teams) == 1)


def test_every_team_is_prefetched_once_per_snapshot_and_a_request_still_queued_is_dropped(tmp_path):
    """Every team's figures are read at the grain a page is first drawn at, not again at each period
    clicked through (0.6-1.1 s of CPU each at 1M deployments); of two requests still queued only the
    later is read, and an earlier one is read when asked again."""
    snap = data.find_snapshot(build_warehouse(tmp_path))
    teams = (Team("checkout", ("payments",)),)
    month, week = data.View(grain="month", teams=teams), data.View(grain="week", teams=teams)
    data.prefetch_picks(snap, month)
    data.prefetch_picks(snap, week)
    assert data.wait_for_prefetch(timeout=60)
    assert data._every_team_ready(snap, month) and not data._every_team_ready(snap, week)
    april, may = (data.View(grain="month", from_date=date(2026, month_no, 1), teams=teams) for month_no in (4, 5))
    gate = threading.Event()
    data.run_in_background(gate.wait)  # the prefetch thread busy: what follows stays queued
    data.prefetch_picks(snap, april)
    data.prefetch_picks(snap, may)
    gate.set()
    assert data.wait_for_prefetch(timeout=60)
    assert not data._every_team_ready(snap, april) and data._every_team_ready(snap, may)
    data.prefetch_picks(snap, april)
    assert data.wait_for_prefetch(timeout=60)
    assert data._every_team_ready(snap, april)


def test_every_team_is_prefetched_after_a_page_first_drawn_with_a_team_picked(tmp_path):
    """A page opened with a team picked (a shared link) prefetches the spans only; the same dates and
    environment with no team picked still read every team's figures."""
    snap = data.find_snapshot(build_warehouse(tmp_path))
    teams = (Team("checkout", ("payments",)),)
    data.prefetch_picks(snap, data.View(grain="month", team="checkout", teams=teams))
    assert data.wait_for_prefetch(timeout=60)
    assert not data._every_team_ready(snap, data.View(grain="month", teams=teams))
    data.prefetch_picks(snap, data.View(grain="month", teams=teams))
    assert data.wait_for_prefetch(timeout=60)
    assert data._every_team_ready(snap, data.View(grain="month", teams=teams))


def test_nothing_is_prefetched_for_a_snapshot_a_writer_has_replaced(tmp_path):
    """A prefetch still queued or running when a newer snapshot is published stops: its reads would
    only take the CPU from the pages reading the new one."""
    db = build_warehouse(tmp_path)
    old = data.find_snapshot(db)
    teams = (Team("checkout", ("payments",)),)
    assert data.is_current(old)
    os.utime(old.path, ns=(old.mtime_ns + 10**9, old.mtime_ns + 10**9))  # what a publish does to the key
    assert not data.is_current(old) and data.is_current(data.find_snapshot(db))
    data.prefetch_picks(old, data.View(grain="month", teams=teams))
    assert data.wait_for_prefetch(timeout=60)
    assert not data._every_team_ready(old, data.View(grain="month", teams=teams))


def test_a_scope_s_annotations_are_metrics_compare_s(tmp_path):
    """scope_annotations chooses a scope's annotations from every annotation, read once per snapshot:
    the rows and order of metrics.compare.query_annotations for the scope."""
    db = build_warehouse(tmp_path)
    con = open_warehouse(db)
    for name, day, service in (("flags", "2026-05-01", None), ("pay gates", "2026-04-20", "payments"),
                               ("search cache", "2026-05-01", "search"), ("another", "2026-05-01", "gone")):
        run_annotation_add(con, db, MetricSettings(), name, date.fromisoformat(day), service, None)
    publish_snapshot(con, db)
    con.close()
    snap = data.find_snapshot(db)
    scopes = [compare.Scope(), compare.Scope(("payments",)), compare.Scope(("search",)),
              compare.Scope(("payments", "search"), "everyone"), compare.Scope(("search", "gone"), "discovery"),
              compare.Scope((), "empty")]
    con = open_warehouse(snap.path, read_only=True)
    try:
        expected = [compare.query_annotations(con, scope, every_service=False) for scope in scopes]
    finally:
        con.close()
    assert [len(frame) for frame in expected] == [1, 2, 2, 3, 3, 1]
    for scope, frame in zip(scopes, expected):
        assert data.scope_annotations(snap, scope).equals(frame), scope


def test_a_scope_s_data_span_is_metrics_compare_s(fixture_db):
    """load_data_span makes a service's or a team's span of every service's, read once per snapshot
    (load_service_spans): the same days as metrics.compare.data_span reading them itself."""
    snap = data.find_snapshot(fixture_db)
    scopes = [compare.Scope(), compare.Scope(("payments",)), compare.Scope(("search",)),
              compare.Scope(("payments", "search"), "everyone"), compare.Scope(("search", "gone"), "discovery"),
              compare.Scope(("gone",)), compare.Scope((), "empty")]
    con = open_warehouse(snap.path, read_only=True)
    try:
        expected = [compare.data_span(con, MetricSettings(), scope) for scope in scopes]
    finally:
        con.close()
    assert expected[1] != expected[2] and expected[-1] is None  # the fixture tells the scopes apart
    assert [data.load_data_span(snap, scope) for scope in scopes] == expected


@pytest.mark.parametrize("figure, count_column", [
    ("deploys_per_day", "deployments"), ("change_failure_rate", "deployments"),
    ("lead_time_median_hours", "changes_deployed"), ("incident_recovery_median_minutes", "incidents_resolved"),
    ("failed_deployment_recovery_median_minutes", "failed_deployment_recoveries"), ("rework_rate", "deployments"),
])
@pytest.mark.parametrize("service", ["all", "payments", "search"])
def test_records_behind_every_figure_reproduce_it(fixture_db, figure, count_column, service):
    snap = data.find_snapshot(fixture_db)
    frame = summary_of(fixture_db, grain="month", service=None if service == "all" else service)
    for row in frame.itertuples():
        records, about = data.load_records(snap, figure, "month", row.period_start.date(), service, "production")
        assert int(records["counted"].sum()) == getattr(row, count_column), (figure, service, row.period_start)
        stored = getattr(row, figure)
        if stored == stored:  # a defined figure: the rows recompute it
            assert about["recomputed"] == pytest.approx(stored, abs=1e-6)


def test_records_say_why_a_deployment_failed_and_which_incident(fixture_db):
    records, about = data.load_records(data.find_snapshot(fixture_db), "change_failure_rate", "month",
                                       date(2026, 5, 20), "all", "production")
    assert about["period_start"] == date(2026, 5, 1) and about["figure"] == 1.0
    assert records[["record_id", "failed"]].values.tolist() == [["pay-4", True], ["srch-2", True]]
    assert "INC-1" in records["rule"][0] and "INC-2" in records["rule"][1]


def test_incidents_failures_and_findings_follow_the_view(fixture_db):
    snap = data.find_snapshot(fixture_db)
    counts, incidents = data.load_incidents(snap, data.View())
    assert counts == {"incidents": 2, "resolved": 1, "attributed": 2}
    assert incidents[["incident_id", "attributed_to", "attribution_rule"]].values.tolist() == [
        ["INC-2", "srch-2", "caused_by_deployment"], ["INC-1", "pay-4", "latest_deployment_in_window"]]
    assert data.load_incidents(snap, data.View(services=("payments",)))[1]["incident_id"].tolist() == ["INC-1"]
    assert data.load_incidents(snap, data.View(from_date=date(2026, 5, 10)))[1]["incident_id"].tolist() == ["INC-2"]
    newest = data.load_incidents(snap, data.View(), limit=1)
    assert newest[0]["incidents"] == 2 and newest[1]["incident_id"].tolist() == ["INC-2"]
    assert data.read_incidents(snap, data.View())["incident_id"].tolist() == ["INC-2", "INC-1"]
    total, failures = data.load_failures(snap, data.View())
    assert total == 3
    assert [[d, r, rule if isinstance(rule, str) else None]
            for d, r, rule in failures[["deployment_id", "reason", "recovery_rule"]].values.tolist()] == [
        ["srch-2", "incident", None], ["pay-4", "incident", "last_incident_resolved"],
        ["pay-2", "rollback", "rollback"]]
    counts = data.load_finding_counts(snap, data.View(services=("search",)))
    assert ("incident_unresolved", 1) in set(zip(counts["finding"], counts["count"]))
    assert "change_not_deployed" not in set(counts["finding"])  # a finding without a service
    whole = data.load_finding_counts(snap, data.View())
    examples = data.load_finding_examples(snap, data.View(), per_finding=1)
    assert examples["finding"].tolist() == sorted(whole["finding"])  # one example of each
    assert len(data.read_findings(snap, data.View())) == whole["count"].sum()


def test_a_new_snapshot_is_a_new_cache_key_so_new_data_shows_without_a_restart(tmp_path):
    db = build_warehouse(tmp_path)
    before = data.find_snapshot(db)
    assert data.load_status(before).last_day == date(2026, 6, 1)
    log = tmp_path / "later.jsonl"
    log.write_text(cdevents.to_jsonl(later_events()), encoding="utf-8")
    con = open_warehouse(db)
    run_eventlog_ingest(con, db, [str(log)], MetricSettings())
    con.close()
    after = data.find_snapshot(db)
    assert after != before
    assert data.load_status(after).last_day == date(2026, 7, 7)
    assert data.load_status(before).last_day == date(2026, 6, 1)  # the old key is still served from the cache


def test_reading_never_blocks_the_writer_and_never_sees_a_stale_file(tmp_path):
    db = build_warehouse(tmp_path)
    snap = data.find_snapshot(db)
    # Another session's connection to the current snapshot stays open while the writer commits.
    with data.read_snapshot(snap) as reader:
        writer = open_warehouse(db)  # would raise if the dashboard held the warehouse itself
        log = tmp_path / "later.jsonl"
        log.write_text(cdevents.to_jsonl(later_events()), encoding="utf-8")
        run_eventlog_ingest(writer, db, [str(log)], MetricSettings())
        writer.close()
        assert reader.execute("SELECT count(*) FROM fct_deployments WHERE environment = 'production'").fetchall() \
            == [(7,)]  # the file it opened
        with data.read_snapshot(data.find_snapshot(db)) as fresh:
            assert fresh.execute("SELECT count(*) FROM fct_deployments WHERE environment = 'production'"
                                 ).fetchall() == [(9,)]  # the new snapshot, not DuckDB's cached instance


def test_queries_share_one_connection_per_snapshot_and_a_newer_snapshot_retires_it(tmp_path):
    db = build_warehouse(tmp_path)
    snap = data.find_snapshot(db)
    with data.read_snapshot(snap) as con:
        first, rows = data._reader, con.execute("SELECT count(*) FROM fct_deployments").fetchall()
    with data.read_snapshot(snap) as con:
        assert data._reader is first  # not opened again
        os.utime(snap.path, ns=(snap.mtime_ns + 10**9, snap.mtime_ns + 10**9))  # as a new publish would
        with data.read_snapshot(data.find_snapshot(db)) as fresh:
            assert data._reader is not first and fresh.execute("SELECT 1").fetchall() == [(1,)]
        assert con.execute("SELECT count(*) FROM fct_deployments").fetchall() == rows  # still open while used
    with pytest.raises(duckdb.Error):  # closed once its last query ended
        first.con.execute("SELECT 1")
    with data.read_snapshot(snap) as con:  # a session's older key reads the open, newer file
        assert data._reader is not first and con.execute("SELECT 1").fetchall() == [(1,)]


def test_threads_read_the_shared_connection_at_once(fixture_db):
    snap = data.find_snapshot(fixture_db)

    def count(_) -> int:
        with data.read_snapshot(snap) as con:
            return con.execute("SELECT count(*) FROM fct_deployments WHERE environment = 'production'").fetchall()[0][0]

    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(count, range(40)))
    assert set(counts) == {count(0)} and data._reader.users == 0


def test_the_stage_sample_is_the_same_with_the_hash_bound(fixture_db, monkeypatch):
    """The sample is the changes with the smallest hashes; bounding the hashes first (to spare the sort)
    gives the same rows in the same order, or reads again without the bound when too few pass it."""
    snap = data.find_snapshot(fixture_db)
    with data.read_snapshot(snap) as con:
        expected = con.execute("SELECT change_id FROM fct_change_stages WHERE environment = 'production' "
                               "ORDER BY hash(change_id) LIMIT 2").fetchall()
        total = con.execute("SELECT count(*) FROM fct_change_stages WHERE environment = 'production'").fetchall()[0][0]
    assert data.sample_bound(100, 40) is None and data.sample_bound(10**6, 1000) == 2 ** 64 * 3 * 1000 // 10**6
    monkeypatch.setattr(data, "STAGE_SAMPLE", 2)
    monkeypatch.setattr(data, "SAMPLE_MARGIN", 1)
    assert data.sample_bound(total, 2) is not None  # the bound is used
    count, spans = data.load_stage_spans.__wrapped__(snap, data.View())
    assert count == total and list(spans["change_id"]) == [r[0] for r in expected]


def test_the_snapshot_is_opened_read_only(fixture_db):
    with data.read_snapshot(data.find_snapshot(fixture_db)) as con:
        with pytest.raises(duckdb.Error, match="read-only"):
            con.execute("DELETE FROM fct_deployments")


def test_an_empty_warehouse_has_no_metrics(tmp_path):
    db = tmp_path / "empty.duckdb"
    con = open_warehouse(db)
    publish_snapshot(con, db)
    con.close()
    status = data.load_status(data.find_snapshot(db))
    assert not status.has_metrics and status.first_day is None


def test_freshness_counts_raw_events_per_source_and_none_when_all_were_rejected(tmp_path, fixture_db):
    frame = data.load_freshness(data.find_snapshot(fixture_db))
    con = open_warehouse(fixture_db, read_only=True)
    expected = con.execute("SELECT origin, count(*), max(occurred_at) FROM raw_events GROUP BY origin").fetchall()
    con.close()
    assert [(o, n, t.to_pydatetime()) for o, n, t in zip(frame["origin"], frame["events"], frame["newest_event_at"])
            if o not in data.OWN_TABLE_ORIGINS] == expected
    db = tmp_path / "dora.duckdb"
    log = tmp_path / "bad.jsonl"
    log.write_text("not json\n", encoding="utf-8")
    con = open_warehouse(db)
    run_eventlog_ingest(con, db, [str(log)], MetricSettings())
    con.close()
    rejected = data.load_freshness(data.find_snapshot(db))
    assert rejected["events"].tolist() == [0] and rejected["newest_event_at"].isna().all()


def test_finding_examples_are_each_finding_s_newest_with_ties_and_rows_without_a_time(tmp_path):
    """findings.sql drops rows older than each finding's Nth newest time before numbering them: the
    examples are still exactly the newest N of each finding, in order (ties by record id, rows
    without a time last)."""
    db = build_warehouse(tmp_path)
    con = open_warehouse(db)
    con.execute("DELETE FROM dq_findings")
    rows = [("tie", "a3", "2026-05-03"), ("tie", "a2", "2026-05-02"), ("tie", "a1", "2026-05-02"),
            ("tie", "a0", "2026-05-01"), ("tie", "a9", None),
            ("few", "b1", "2026-05-01"), ("few", "b2", None),
            ("untimed", "c2", None), ("untimed", "c1", None), ("untimed", "c3", None)]
    con.executemany("INSERT INTO dq_findings (finding, entity_type, entity_id, service, environment, occurred_at, "
                    "detail) VALUES (?, 'change', ?, 'payments', 'production', ?::TIMESTAMPTZ, '')", rows)
    publish_snapshot(con, db)
    con.close()
    examples = data.load_finding_examples(data.find_snapshot(db), data.View(), per_finding=2)
    assert list(zip(examples["finding"], examples["entity_id"])) == [
        ("few", "b1"), ("few", "b2"), ("tie", "a3"), ("tie", "a1"), ("untimed", "c1"), ("untimed", "c2")]
    everything = data.read_findings(data.find_snapshot(db), data.View())
    assert len(everything) == len(rows)


def test_rejects_are_counted_and_listed(tmp_path):
    db = tmp_path / "dora.duckdb"
    log = tmp_path / "bad.jsonl"
    log.write_text(cdevents.to_jsonl(later_events()) + "not json\n", encoding="utf-8")
    con = open_warehouse(db)
    run_eventlog_ingest(con, db, [str(log)], MetricSettings())
    con.close()
    total, rows = data.load_rejects(data.find_snapshot(db))
    assert total == 1
    assert rows[["line_no", "reason"]].values.tolist() == [[4, "not valid JSON"]]
    assert os.path.basename(rows["file"][0]) == "bad.jsonl"


def test_a_reader_nobody_queries_is_closed_so_the_writer_can_update_its_file_in_place(tmp_path):
    db = build_warehouse(tmp_path)
    with data.read_snapshot(data.find_snapshot(db)) as con:
        reader = data._reader
        assert not data.close_idle_reader(now=time.monotonic() + 2 * data.READER_IDLE_SECONDS)  # in use
        con.execute("SELECT 1")
    assert not data.close_idle_reader(now=reader.last_used + data.READER_IDLE_SECONDS - 1)
    assert data.close_idle_reader(now=reader.last_used + data.READER_IDLE_SECONDS)
    with pytest.raises(duckdb.Error):
        reader.con.execute("SELECT 1")
    held = Path(data.find_snapshot(db).path)
    writer = open_warehouse(db)
    for n in (1, 2):  # the second publish comes back to the file the dashboard read
        log = tmp_path / f"later-{n}.jsonl"
        log.write_text(cdevents.to_jsonl(later_events()), encoding="utf-8")
        inode = held.stat().st_ino
        run_eventlog_ingest(writer, db, [str(log)], MetricSettings())
    writer.close()
    assert held.stat().st_ino == inode  # rewritten in place: nothing held it
    with data.read_snapshot(data.find_snapshot(db)) as con:  # opened again
        assert data._reader is not reader and con.execute("SELECT 1").fetchall() == [(1,)]
