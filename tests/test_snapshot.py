"""The read snapshot (ingest.warehouse.publish_snapshot) and the connection defaults (core.db.connect).

Readers open only the snapshot: it must hold everything they query (facts, metrics, findings, rejects,
the macros), appear whole (a rename), and a reader that opened the previous one keeps reading it.
Every connection is capped in memory by default and spills where it may write.
"""
from __future__ import annotations

import tempfile

import duckdb
import pytest

from core.db import READER_MEMORY_LIMIT, WRITER_MEMORY_LIMIT, connect
from core.errors import WarehouseError
from ingest import warehouse
from ingest.warehouse import copy_file, publish_snapshot, snapshot_path
from metrics.build import MACROS
from tools import cdevents


def deploy(n: int) -> dict:
    return cdevents.deployed(id=f"d{n}", at=f"2026-03-{n:02d}T10:00:00Z", service="api")


def read_snapshot(wh) -> duckdb.DuckDBPyConnection:
    """The snapshot as readers open it (dora/cli/base.py open_snapshot): attached read-only."""
    con = connect(":memory:")
    con.execute("ATTACH ? AS snapshot (READ_ONLY)", [str(snapshot_path(wh.path))])
    con.execute("USE snapshot")
    return con


def test_a_load_publishes_what_readers_query_and_no_temporary_file(wh):
    wh.load([deploy(1), deploy(2), "not json"])
    reader = read_snapshot(wh)
    assert reader.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(2,)]
    assert reader.execute("SELECT raw FROM rejects").fetchall() == [("not json",)]  # drill-down to the text
    macros = {name for (name,) in reader.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_type IN ('macro', 'table_macro') AND NOT internal"
    ).fetchall()}
    assert set(MACROS) <= macros  # readers call them
    assert reader.execute("SELECT local_day(TIMESTAMPTZ '2026-03-01 23:30:00+00', 'Europe/Paris')").fetchall()[0][0] \
        .isoformat() == "2026-03-02"
    assert [p.name for p in wh.tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_reader_keeps_the_snapshot_it_opened_while_the_next_is_published(wh):
    wh.load([deploy(1)])
    before = read_snapshot(wh)
    wh.load([deploy(2)])  # commits, then publishes a new snapshot over the old name
    assert before.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(1,)]
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(2,)]


def test_publish_holds_what_was_committed_not_the_open_transaction(wh):
    wh.load([deploy(1), cdevents.merged(id="m1", at="2026-03-01T09:00:00Z", change="pr-1")])
    wh.con.execute("BEGIN")
    wh.con.execute("DELETE FROM fct_deployments")
    wh.con.execute("COMMIT")
    wh.con.execute("BEGIN")
    wh.con.execute("DELETE FROM fct_changes")  # not committed
    with pytest.raises(duckdb.Error):
        publish_snapshot(wh.con, wh.path)  # DuckDB refuses to CHECKPOINT inside a transaction
    wh.con.execute("ROLLBACK")
    publish_snapshot(wh.con, wh.path)
    reader = read_snapshot(wh)
    assert reader.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(0,)]
    assert reader.execute("SELECT count(*) FROM fct_changes").fetchall() == [(1,)]


def test_copy_file_copies_the_bytes_where_the_file_system_cannot_clone(tmp_path, monkeypatch):
    source = tmp_path / "a.bin"
    source.write_bytes(bytes(range(256)) * 5000)
    target = tmp_path / "b.bin"
    target.write_bytes(b"old and longer" * 100_000)

    def no_clones(*args):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", no_clones)
    copy_file(source, target)
    assert target.read_bytes() == source.read_bytes()


def test_every_connection_is_capped_and_spills_where_it_may_write(tmp_path):
    def settings(con):
        return con.execute("SELECT current_setting('memory_limit'), current_setting('temp_directory')").fetchall()[0]

    def shown(limit):  # the cap as DuckDB shows it, e.g. 953.6 MiB
        con = duckdb.connect()
        con.execute("SET memory_limit = ?", [limit])
        return settings(con)[0]

    writer = connect(tmp_path / "w.duckdb")
    assert settings(writer) == (shown(WRITER_MEMORY_LIMIT), f"{tmp_path / 'w.duckdb'}.tmp")  # beside the warehouse
    reader = connect(":memory:")  # readers attach the snapshot to an in-memory database
    assert settings(reader)[0] == shown(READER_MEMORY_LIMIT)
    assert settings(reader)[1].startswith(tempfile.gettempdir())  # not `.tmp` in the current folder
    writer.close()
    read_only = connect(tmp_path / "w.duckdb", read_only=True)
    assert settings(read_only)[0] == shown(READER_MEMORY_LIMIT)
    assert settings(read_only)[1].startswith(tempfile.gettempdir())
    assert settings(connect(":memory:", memory_limit="2GB"))[0] == shown("2GB")
    with pytest.raises(WarehouseError, match="'lots' is not a memory size"):
        connect(":memory:", memory_limit="lots")
