"""A nightly run that changes nothing keeps the read snapshot instead of copying the warehouse again;
every other run publishes a new copy. Its run rows are kept beside the snapshot for readers."""
from __future__ import annotations

from pathlib import Path

import pytest

from dora.nightly import run_nightly
from ingest.warehouse import open_warehouse, read_unpublished_runs, snapshot_is_current, snapshot_path, unpublished_runs_path
from metrics.build import MetricSettings, update_metrics
from tools import cdevents as c


def deploy(i: int) -> str:
    return c.to_jsonl([c.deployed(id=f"d{i}", at=f"2026-03-{1 + i:02d}T10:00:00Z", service="payments")])


def nightly(con, db: Path, log: Path, settings: MetricSettings = MetricSettings()):
    return run_nightly(con, db, eventlog_paths=[str(log)], github=None, token=None, settings=settings)


def identity(path: Path) -> tuple[int, int]:
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


@pytest.fixture
def warehouse(tmp_path: Path):
    db = tmp_path / "dora.duckdb"
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1) + deploy(2))
    con = open_warehouse(db)
    nightly(con, db, log)
    yield con, db, log
    con.close()


def test_a_run_with_nothing_new_keeps_the_snapshot_and_lists_its_runs_beside_it(warehouse):
    con, db, log = warehouse
    snapshot = snapshot_path(db)
    before = identity(snapshot)
    first = nightly(con, db, log).sources[0]
    second = nightly(con, db, log).sources[0]
    assert identity(snapshot) == before  # not copied again
    kept = read_unpublished_runs(snapshot).to_pylist()
    assert [(r["run_id"], r["origin"], r["outcome"], r["loaded"]) for r in kept] == [
        (first.run_id, "eventlog", "ok", 0), (second.run_id, "eventlog", "ok", 0)]
    assert snapshot_is_current(con, db)


def test_new_events_publish_a_new_copy_holding_the_runs_that_were_beside_it(warehouse):
    con, db, log = warehouse
    snapshot = snapshot_path(db)
    quiet = nightly(con, db, log).sources[0]
    before = identity(snapshot)
    with log.open("a") as fh:
        fh.write(deploy(3))
    nightly(con, db, log)
    assert identity(snapshot) != before
    assert read_unpublished_runs(snapshot).num_rows == 0
    reader = open_warehouse(snapshot, read_only=True)
    try:
        assert reader.execute("SELECT count(*) FROM ingest_runs WHERE run_id = ?", [quiet.run_id]).fetchall() == [(1,)]
        assert reader.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]
    finally:
        reader.close()


def test_a_rejected_line_is_a_change_readers_see(warehouse):
    con, db, log = warehouse
    before = identity(snapshot_path(db))
    with log.open("a") as fh:
        fh.write("not json\n")
    assert nightly(con, db, log).sources[0].rejected == 1
    assert identity(snapshot_path(db)) != before


@pytest.mark.parametrize("change", ["build not published", "snapshot replaced", "snapshot deleted"])
def test_a_snapshot_that_no_longer_stands_for_the_warehouse_is_published_again(warehouse, change):
    con, db, log = warehouse
    snapshot = snapshot_path(db)
    if change == "build not published":  # e.g. a crash between a build's commit and its publish
        con.execute("BEGIN TRANSACTION")
        update_metrics(con, MetricSettings(timezone="Europe/Berlin"))
        con.execute("COMMIT")
    elif change == "snapshot replaced":
        snapshot.write_bytes(snapshot.read_bytes())
    else:
        snapshot.unlink()
    assert not snapshot_is_current(con, db)
    before = identity(snapshot) if snapshot.exists() else None
    nightly(con, db, log)
    assert snapshot.exists() and identity(snapshot) != before
    assert snapshot_is_current(con, db)


def test_other_settings_rebuild_and_publish_even_with_nothing_new(warehouse):
    con, db, log = warehouse
    before = identity(snapshot_path(db))
    nightly(con, db, log, MetricSettings(timezone="Europe/Berlin"))
    assert identity(snapshot_path(db)) != before


def test_an_unreadable_runs_file_is_ignored_by_readers(warehouse):
    con, db, log = warehouse
    nightly(con, db, log)
    snapshot = snapshot_path(db)
    unpublished_runs_path(snapshot).write_text("{not json")
    assert read_unpublished_runs(snapshot).num_rows == 0


def test_the_dashboard_s_freshness_shows_the_runs_kept_beside_the_snapshot(warehouse):
    from dashboard import data

    con, db, log = warehouse
    first = data.load_freshness(data.find_snapshot(db)).set_index("origin").loc["eventlog"]
    quiet = nightly(con, db, log).sources[0]
    shown = data.load_freshness(data.find_snapshot(db)).set_index("origin").loc["eventlog"]
    assert shown["runs"] == first["runs"] + 1
    assert shown["last_run_at"] > first["last_run_at"] and shown["last_outcome"] == "ok"
    with log.open("a") as fh:  # the next change publishes a copy holding the quiet run: counted once
        fh.write(deploy(3))
    nightly(con, db, log)
    after = data.load_freshness(data.find_snapshot(db)).set_index("origin").loc["eventlog"]
    assert after["runs"] == first["runs"] + 2 and after["events"] == first["events"] + 1
    assert quiet.run_id is not None
