"""The read snapshot (ingest.warehouse.publish_snapshot) and the connection defaults (core.db.connect).

Readers open only the snapshot: it must hold everything they query (facts, metrics, findings, rejects,
the macros), appear whole (a rename of its link), and a reader that opened the previous one keeps
reading it. Of its two files, the older is brought up to date in place when no reader has it open,
and copied whole when one has.
Every connection is capped in memory by default and spills where it may write.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import duckdb
import pytest

from core.db import READER_MEMORY_LIMIT, WRITER_MEMORY_LIMIT, connect
from core.errors import WarehouseError
from ingest import warehouse
from ingest.warehouse import clone_file, publish_snapshot, rewrite_changed_chunks, snapshot_files, snapshot_path
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


def test_the_snapshot_link_names_its_two_files_in_turn_and_the_older_is_updated_in_place(wh):
    first, second = snapshot_files(wh.path)
    wh.load([deploy(1)])
    assert os.readlink(snapshot_path(wh.path)) == first.name  # relative: the folder can move
    wh.load([deploy(2)])
    assert os.readlink(snapshot_path(wh.path)) == second.name
    inode = first.stat().st_ino
    wh.load([deploy(3)])
    assert os.readlink(snapshot_path(wh.path)) == first.name
    assert first.stat().st_ino == inode  # rewritten where it differed, not copied anew
    assert first.read_bytes() == wh.path.read_bytes()
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]
    assert [p.name for p in wh.tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_a_snapshot_file_left_wrong_by_a_crash_is_made_right_by_the_next_publish(wh):
    first, _ = snapshot_files(wh.path)
    wh.load([deploy(1)])
    wh.load([deploy(2)])
    with open(first, "r+b") as half_written:  # as a crash part way through refreshing it would
        half_written.seek(4096)
        half_written.write(b"\xff" * 100_000)
        half_written.truncate(300_000)
    wh.load([deploy(3)])
    assert first.read_bytes() == wh.path.read_bytes()
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]


HOLD_SNAPSHOT = """
import sys, duckdb
con = duckdb.connect(":memory:")
con.execute("ATTACH ? AS s (READ_ONLY)", [sys.argv[1]])
print(con.execute("SELECT count(*) FROM s.fct_deployments").fetchall()[0][0], flush=True)
sys.stdin.read()  # hold the file until the test closes our stdin
print(con.execute("SELECT count(*) FROM s.fct_deployments").fetchall()[0][0], flush=True)
"""


def test_a_file_a_reader_in_another_process_holds_is_copied_anew_not_rewritten(wh):
    first, _ = snapshot_files(wh.path)
    wh.load([deploy(1)])
    reader = subprocess.Popen([sys.executable, "-c", HOLD_SNAPSHOT, str(snapshot_path(wh.path))],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert reader.stdout.readline() == "1\n"  # it holds the first file
    wh.load([deploy(2)])
    inode = first.stat().st_ino
    wh.load([deploy(3)])  # the first file is the older again, and the reader still holds it
    assert first.stat().st_ino != inode
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]
    out, _ = reader.communicate("", timeout=60)
    assert (out, reader.returncode) == ("1\n", 0)  # its file stayed as it opened it


def test_a_file_this_process_reads_is_copied_anew_not_rewritten(wh):
    first, _ = snapshot_files(wh.path)
    wh.load([deploy(1)])
    before = read_snapshot(wh)  # DuckDB's lock does not stand between one process's own readers
    wh.load([deploy(2)])
    inode = first.stat().st_ino
    wh.load([deploy(3)])
    assert first.stat().st_ino != inode
    assert before.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(1,)]
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]


@pytest.mark.parametrize("target, written", [
    (b"abcdefgh" * 3, 0),          # the same: nothing written
    (b"abcdXfghabcdefghabcdefgh", 1),   # one byte in the first chunk
    (b"abcdefghabcdefgh", 1),      # shorter: the missing chunk
    (b"abcdefghabcdefghabcdefghTAIL", 0),  # longer: cut
    (b"", 3),
])
def test_rewrite_changed_chunks_writes_only_the_chunks_that_differ(tmp_path, monkeypatch, target, written):
    monkeypatch.setattr(warehouse, "CHUNK_BYTES", 8)
    (tmp_path / "src").write_bytes(b"abcdefgh" * 3)
    (tmp_path / "dst").write_bytes(target)
    with open(tmp_path / "src", "rb", buffering=0) as source, open(tmp_path / "dst", "r+b", buffering=0) as dst:
        assert rewrite_changed_chunks(source, dst) == written
    assert (tmp_path / "dst").read_bytes() == b"abcdefgh" * 3


def test_clone_file_says_when_the_file_system_cannot_clone(tmp_path, monkeypatch):
    source = tmp_path / "a.bin"
    source.write_bytes(bytes(range(256)) * 5000)

    def no_clones(*args):
        raise OSError(95, "Operation not supported")

    monkeypatch.setattr(warehouse.fcntl, "ioctl", no_clones)
    assert clone_file(source, tmp_path / "b.bin") is False


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


def test_no_connection_draws_duckdb_s_progress_bar():
    """DuckDB's own bar goes to stdout for a query over 2 s, even into a pipe: into `-q` cron output and
    into data a command writes to stdout. Off on every connection, and on the cursors the dashboard's
    threads take of it."""
    con = connect(":memory:")
    for handle in (con, con.cursor()):
        assert handle.execute("SELECT current_setting('enable_progress_bar')").fetchall() == [(False,)]


def test_a_snapshot_published_as_one_file_before_is_replaced_by_the_link(wh):
    wh.load([deploy(1)])
    legacy = snapshot_path(wh.path)
    legacy.unlink()
    legacy.write_bytes(wh.path.read_bytes())  # the layout before the link: one file under that name
    wh.load([deploy(2)])
    assert legacy.is_symlink()
    assert read_snapshot(wh).execute("SELECT count(*) FROM fct_deployments").fetchall() == [(2,)]
