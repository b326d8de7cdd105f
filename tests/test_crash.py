"""A `dora ingest` killed mid-run leaves the warehouse as before; the rerun equals a clean run."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tools import cdevents as c

TABLES = ["raw_events", "stg_events", "rejects", "fct_deployments", "fct_lead_times", "fct_failures",
          "metric_periods"]


def make_log(path: Path, deployments: int = 6000) -> None:
    events = []
    for i in range(deployments):
        at = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:00Z"
        events.append(c.merged(id=f"m{i}", at=at, change=f"acme/s{i % 7}#{i}", first_commit_at="2024-12-01T00:00:00Z"))
        events.append(c.deployed(id=f"d{i}", at=at, service=f"s{i % 7}", changes=[f"acme/s{i % 7}#{i}"]))
        if i % 50 == 0:
            events.append(c.incident_detected(id=f"i{i}", at=at, incident=f"INC-{i}", service=f"s{i % 7}"))
    path.write_text(c.to_jsonl(events) + "not json\n")


def dora(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dora", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def log_position(pid: int, log: Path) -> int:
    """How far the process has read into `log` (its open file's offset), 0 before it opens it."""
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if os.readlink(fd) == str(log):
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                return int(info.split("pos:")[1].split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def rounded(row: tuple) -> tuple:
    # parallel float sums differ in the last bits from run to run; the figures do not
    return tuple(round(v, 9) if isinstance(v, float) else v for v in row)


def dump(db: Path) -> dict:
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = {}
        for t in TABLES:
            exclude = " EXCLUDE (ingest_run_id)" if t in ("raw_events", "stg_events", "rejects") else ""
            tables[t] = [rounded(r) for r in con.execute(f"SELECT *{exclude} FROM {t} ORDER BY ALL").fetchall()]
        return tables
    finally:
        con.close()


def test_sigkill_mid_ingest_then_rerun_equals_a_clean_run(tmp_path):
    log = tmp_path / "big.jsonl"
    make_log(log)
    size = log.stat().st_size
    env = {**os.environ, "DORA_CHUNK_BYTES": str(64 * 1024)}  # many chunks: a long transaction to kill

    first = tmp_path / "seed.jsonl"
    first.write_text(c.to_jsonl([c.deployed(id="seed", at="2025-12-31T00:00:00Z", service="s0")]))
    crashed_db = tmp_path / "crashed.duckdb"
    assert dora("ingest", "events", str(first), "--db", str(crashed_db), env=env).wait() == 0
    before = dump(crashed_db)

    proc = dora("ingest", "events", str(log), "--db", str(crashed_db), env=env)
    # Await the run being well inside its transaction: it has read more than half the log.
    while proc.poll() is None and log_position(proc.pid, log) < size // 2:
        time.sleep(0.002)  # polling the offset, not waiting a fixed time
    assert proc.poll() is None, "the ingest finished before it could be killed; make the log bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    assert dump(crashed_db) == before  # nothing of the killed run is visible

    rerun = dora("ingest", "events", str(log), "--db", str(crashed_db), env=env)
    assert rerun.wait() == 3, rerun.stderr.read().decode()

    clean_db = tmp_path / "clean.duckdb"
    assert dora("ingest", "events", str(first), "--db", str(clean_db), env=env).wait() == 0
    assert dora("ingest", "events", str(log), "--db", str(clean_db), env=env).wait() == 3
    assert dump(crashed_db) == dump(clean_db)
