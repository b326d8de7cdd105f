"""Bad input on purpose: nothing lost, nothing injected, one clear message and the documented exit code.

docs/cli.md ("Bad input") lists every kind covered here and what each gets.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from core.text import escape_controls, escape_markdown, neutralise_cell, redact, register_secret
from dora.cli import main
from dora.cli.output import write_output
from core.errors import DoraError
from dora.jobs import Interrupted, run_eventlog_ingest
from ingest.warehouse import finish_run, open_warehouse, snapshot_path, start_run
from metrics.build import MetricSettings
from tools import cdevents as c

ESC = "\x1b"


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG", "DORA_CHUNK_BYTES", "GITHUB_TOKEN", "GH_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def write_log(path: Path, service: str = "pay", extra: tuple[str, ...] = ()) -> Path:
    events = [c.deployed(id="d1", at="2026-03-02T10:00:00Z", service=service),
              c.deployed(id="d2", at="2026-04-02T10:00:00Z", service=service)]
    path.write_text(c.to_jsonl(events) + "".join(line + "\n" for line in extra), encoding="utf-8")
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- data loss ---------------------------------------------------------------------------------

def test_another_programs_duckdb_file_is_refused_and_left_unchanged(runner, tmp_path):
    foreign = tmp_path / "theirs.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE raw_events (x INTEGER)")  # a clashing name
    con.execute("CREATE TABLE customers (id INTEGER)")
    con.close()
    before = digest(foreign)
    result = runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", str(foreign)])
    assert result.exit_code == 1
    assert "is another program's DuckDB file (it holds customers, raw_events and no dora marker)" in result.output
    assert "nothing was changed" in result.output
    assert digest(foreign) == before and not snapshot_path(foreign).exists()


def test_an_empty_file_or_an_empty_duckdb_file_becomes_a_warehouse(runner, tmp_path):
    empty = tmp_path / "mktemp.duckdb"
    empty.touch()
    fresh = tmp_path / "fresh.duckdb"
    duckdb.connect(str(fresh)).close()
    for db in (empty, fresh):
        result = runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", str(db)])
        assert result.exit_code == 0, result.output


def test_output_never_overwrites_the_warehouse_its_snapshot_or_an_input(tmp_path):
    db = tmp_path / "w.duckdb"
    db.write_bytes(b"precious")
    log = tmp_path / "in.jsonl"
    for target, what in [(db, "the warehouse"), (snapshot_path(db), "the warehouse's read snapshot"),
                         (log, "an input file")]:
        with pytest.raises(DoraError, match=f"refusing to write over .*: it is {what}"):
            write_output(str(target), lambda out: out.write("x"), db_path=db, inputs=[str(log)])
    assert db.read_bytes() == b"precious"


def test_output_is_whole_or_the_old_file_is_kept(tmp_path):
    target = tmp_path / "q.csv"
    target.write_text("old\n")

    def fail(out):
        out.write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_output(str(target), fail, db_path=tmp_path / "w.duckdb")
    assert target.read_text() == "old\n" and sorted(p.name for p in tmp_path.iterdir()) == ["q.csv"]
    with pytest.raises(DoraError, match="the folder .*nodir does not exist"):
        write_output(str(tmp_path / "nodir" / "x.csv"), lambda out: None, db_path=tmp_path / "w.duckdb")


def test_db_in_a_folder_that_cannot_be_created_is_one_clear_error(runner, tmp_path):
    (tmp_path / "file.txt").write_text("")
    result = runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")),
                                  "--db", str(tmp_path / "file.txt" / "sub" / "w.duckdb")])
    assert result.exit_code == 1 and "cannot create the folder" in result.output
    assert "Traceback" not in result.output


# --- readers and the writer --------------------------------------------------------------------

def test_read_commands_work_while_another_process_writes_and_change_no_file(runner, tmp_path):
    db = tmp_path / "w.duckdb"
    assert runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", str(db)]).exit_code == 0
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('locked', flush=True); "
         "sys.stdin.read()", str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"  # the write lock is held from here on
        files = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
        for args in (["metrics"], ["export"], ["rejects"], ["quality"], ["levels"], ["annotate", "list"]):
            result = runner.invoke(main, [*args, "--db", str(db)])
            assert result.exit_code == 0, (args, result.output)
        assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()} == files  # nothing written
    finally:
        holder.communicate("")


def test_a_reversed_date_range_is_a_usage_error(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    result = runner.invoke(main, ["metrics", "--db", "w.duckdb", "--from", "2026-05-01", "--to", "2026-04-01"])
    assert result.exit_code == 2 and "--from 2026-05-01 is after --to 2026-04-01" in result.output


def test_a_truncated_gz_says_why(runner, tmp_path):
    log = tmp_path / "e.jsonl.gz"
    log.write_bytes(gzip.compress(write_log(tmp_path / "e.jsonl").read_bytes() * 50)[:-30])
    result = runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb"])
    assert result.exit_code == 1 and "ended early" in result.output and "Aborted!" not in result.output


@pytest.mark.parametrize("toml,message", [
    (b'[warehouse]\npath = ""\n', "dora.toml:2: warehouse.path is empty"),
    (b'[warehouse]\npath = "caf\xe9.duckdb"\n', "dora.toml:2: not UTF-8 text (byte 0xe9); save the file as UTF-8"),
    (b'[warehouse]\npath = 5\n', "dora.toml:2: warehouse.path must be a file path (got 5)"),
])
def test_config_mistakes_are_one_clear_message(runner, toml, message):
    Path("dora.toml").write_bytes(toml)
    result = runner.invoke(main, ["metrics"])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_a_busy_dashboard_port_fails_before_saying_it_serves(runner, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = runner.invoke(main, ["dashboard", "--db", "w.duckdb", "--port", str(port), "--no-open"])
    assert result.exit_code == 1 and f"cannot serve on 127.0.0.1:{port}" in result.output
    assert "Dashboard for" not in result.output


# --- Ctrl-C ------------------------------------------------------------------------------------

def big_log(path: Path, deployments: int = 6000) -> Path:
    events = [c.deployed(id=f"d{i}", at=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00Z", service=f"s{i % 7}")
              for i in range(deployments)]
    path.write_text(c.to_jsonl(events))
    return path


def read_offset(pid: int, path: Path) -> int:
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(fd) == str(path):
                return int(Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text().split("pos:")[1].split()[0])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return 0


def test_ctrl_c_mid_ingest_is_one_line_exit_130_and_keeps_nothing(tmp_path):
    db = tmp_path / "w.duckdb"
    env = {**os.environ, "DORA_CHUNK_BYTES": str(64 * 1024)}
    seed = write_log(tmp_path / "seed.jsonl")
    assert subprocess.run([sys.executable, "-m", "dora", "ingest", "events", str(seed), "--db", str(db)],
                          env=env, capture_output=True).returncode == 0
    before = digest(snapshot_path(db))
    log = big_log(tmp_path / "big.jsonl")
    proc = subprocess.Popen([sys.executable, "-m", "dora", "ingest", "events", str(log), "--db", str(db)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while proc.poll() is None and read_offset(proc.pid, log) == 0:
        pass  # await the run reading the log: inside its transaction
    assert proc.poll() is None, "the ingest finished before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate()
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == [err.strip()] and err.startswith("interrupted: nothing from run 2 was written")
    con = duckdb.connect(str(db), read_only=True)
    assert con.execute("SELECT count(*) FROM raw_events").fetchall() == [(2,)]
    con.close()
    assert digest(snapshot_path(db)) == before


def test_ctrl_c_after_the_commit_keeps_the_run_and_publishes_it(tmp_path, monkeypatch):
    import dora.jobs as jobs

    calls = []

    def interrupted_copy(con, db_path):
        calls.append(db_path)
        if len(calls) == 1:
            raise KeyboardInterrupt  # Ctrl-C as the snapshot is being copied, after the COMMIT
        return real(con, db_path)

    real = jobs.publish_snapshot
    monkeypatch.setattr(jobs, "publish_snapshot", interrupted_copy)
    db = tmp_path / "w.duckdb"
    con = open_warehouse(db)
    with pytest.raises(Interrupted, match=r"interrupted after run 1 committed: everything it wrote is kept"):
        run_eventlog_ingest(con, db, [str(write_log(tmp_path / "e.jsonl"))], MetricSettings())
    con.close()
    snap = duckdb.connect(str(snapshot_path(db)), read_only=True)
    assert snap.execute("SELECT count(*) FROM raw_events").fetchall() == [(2,)]
    snap.close()


# --- injection ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil\",\"x\")", "+cmd|' /C calc'!A0", "@SUM(1+1)", "-2+3"])
def test_export_neutralises_formula_cells(runner, tmp_path, name):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl", service=name)), "--db", "w.duckdb"])
    result = runner.invoke(main, ["export", "--db", "w.duckdb", "--by", "service"])
    assert result.exit_code == 0, result.output
    cells = [line.split(",")[1] for line in result.stdout.splitlines()[1:]]
    assert cells and all(cell.lstrip('"').startswith("'") for cell in cells)
    assert neutralise_cell(3) == 3 and neutralise_cell("pay") == "pay"


def test_terminal_escapes_from_the_log_are_shown_escaped(runner, tmp_path):
    hostile = f"pay{ESC}]0;pwned\x07{ESC}[2J"
    log = write_log(tmp_path / "e.jsonl", service=hostile, extra=(f"not json {ESC}[2J",))
    loaded = runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb"])
    assert loaded.exit_code == 3
    for args in (["rejects"], ["metrics", "--by", "service"]):
        result = runner.invoke(main, [*args, "--db", "w.duckdb"])
        assert result.exit_code == 0 and ESC not in result.output and "\\x1b[2J" in result.output
    assert ESC not in loaded.output


def test_the_token_is_redacted_from_what_is_stored_and_printed(tmp_path):
    token = "ghp_" + "A1b2" * 9
    register_secret("s3cr3t-token-value")
    assert redact(f"401 Bad credentials for {token}") == "401 Bad credentials for [REDACTED]"
    assert redact("echo: s3cr3t-token-value") == "echo: [REDACTED]"
    db = tmp_path / "w.duckdb"
    con = open_warehouse(db)
    run = start_run(con, "github", "acme/pay")
    finish_run(con, run, outcome="failed", message="GitHub answered 401 s3cr3t-token-value")
    assert con.execute("SELECT message FROM ingest_runs").fetchall() == [("GitHub answered 401 [REDACTED]",)]
    con.close()


def test_markdown_from_the_data_is_shown_as_text():
    shown = escape_markdown("[Session expired: sign in again](https://evil.example)")
    assert "](" not in shown and shown.startswith("\\[")
    assert escape_controls(f"a{ESC}[2Jb\n") == "a\\x1b[2Jb\\n"
