"""The dashboard tests' warehouse and server helpers, and a check that the fixture means what it says.

`dashboard_events()` is a small literal event log (dora.cdevents builders, the same ones the sample
and the benchmark use) with one of everything the pages show: deployments of two services over three
months, a rollback, a hotfix, an incident attributed by the window rule, one named explicitly and
left unresolved, a change never deployed, a staging deployment and pipeline runs with stages.
The other dashboard tests import from here.
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator

import pytest

from tools import cdevents
from dora.cli.dashboard import build_streamlit_command
from dora.jobs import run_eventlog_ingest
from ingest.warehouse import open_warehouse, snapshot_path
from metrics.build import MetricSettings

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
SAMPLE = ROOT / "data" / "sample" / "events.jsonl"
UTC = timezone.utc


def at(day: str, hour: float = 10.0) -> datetime:
    """A UTC time on `day` (YYYY-MM-DD) at `hour` (decimal hours)."""
    return datetime.fromisoformat(day).replace(tzinfo=UTC) + timedelta(hours=hour)


def change(number: int, service: str, merged: datetime, *, lines: int = 40) -> dict:
    """A merged pull request whose lead time starts two days before its merge."""
    return cdevents.merged(
        id=f"merge-{service}-{number}", at=merged, change=f"acme/{service}#{number}", repository=f"acme/{service}",
        first_commit_at=merged - timedelta(days=2), opened_at=merged - timedelta(days=1),
        first_review_at=merged - timedelta(hours=20), merged_at=merged, commit=f"{service[:3]}{number:04d}",
        additions=lines, deletions=lines // 4, author="dev", title=f"{service} change {number}",
    )


def deployment(deployment_id: str, service: str, finished: datetime, changes: list[int], *,
               unplanned: bool | None = None, environment: str = "production") -> dict:
    return cdevents.deployed(
        id=f"deploy-{deployment_id}", at=finished, service=service, environment=environment,
        deployment_id=deployment_id, commit=f"sha-{deployment_id}", repository=f"acme/{service}",
        changes=[f"acme/{service}#{n}" for n in changes], started_at=finished - timedelta(minutes=12),
        unplanned=unplanned,
    )


def dashboard_events() -> list[dict]:
    """The fixture's event log (see the module docstring); every time is UTC."""
    return [
        change(1, "payments", at("2026-04-03")), change(2, "payments", at("2026-04-03", 14)),
        change(3, "payments", at("2026-04-10")), change(4, "payments", at("2026-04-14", 8)),
        change(5, "payments", at("2026-05-01")), change(6, "payments", at("2026-05-29")),
        change(7, "payments", at("2026-06-02")),  # never deployed: a data-quality finding
        change(1, "search", at("2026-04-06")), change(2, "search", at("2026-05-18")),
        deployment("pay-1", "payments", at("2026-04-06"), [1, 2]),
        deployment("pay-2", "payments", at("2026-04-13"), [3]),
        cdevents.rolledback(id="rollback-1", at=at("2026-04-13", 10.5), service="payments"),
        deployment("pay-3", "payments", at("2026-04-14", 9), [4], unplanned=True),
        deployment("pay-4", "payments", at("2026-05-04"), [5]),
        cdevents.incident_detected(id="INC-1-start", at=at("2026-05-04", 11), incident="INC-1",
                                   service="payments", severity="sev2"),
        cdevents.incident_resolved(id="INC-1-end", at=at("2026-05-04", 12), incident="INC-1", service="payments"),
        deployment("pay-5", "payments", at("2026-06-01"), [6]),
        deployment("srch-1", "search", at("2026-04-08", 15), [1]),
        deployment("srch-stg-2", "search", at("2026-05-19", 15), [2], environment="staging"),
        deployment("srch-2", "search", at("2026-05-20", 15), [2]),
        cdevents.incident_detected(id="INC-2-start", at=at("2026-05-21", 9), incident="INC-2", service="search",
                                   severity="sev1", caused_by_deployment="srch-2"),  # never resolved
        cdevents.pipelinerun(id="run-1-start", at=at("2026-05-20", 14), run="run-1", pipeline="search-release",
                             predicate="started", service="search"),
        cdevents.taskrun(id="run-1-build-start", at=at("2026-05-20", 14), task_run="run-1-build", task="build",
                         pipeline_run="run-1", predicate="started"),
        cdevents.taskrun(id="run-1-build-end", at=at("2026-05-20", 14.2), task_run="run-1-build", task="build",
                         pipeline_run="run-1", outcome="success"),
        cdevents.pipelinerun(id="run-1-end", at=at("2026-05-20", 14.9), run="run-1", pipeline="search-release",
                             outcome="success", service="search"),
    ]


def later_events() -> list[dict]:
    """A second load: July deployments, for tests that watch new data appear."""
    return [
        change(8, "payments", at("2026-07-01")),
        deployment("pay-6", "payments", at("2026-07-06"), [8]),
        deployment("pay-7", "payments", at("2026-07-07"), []),
    ]


def build_warehouse(directory: Path, events: list[dict] | None = None) -> Path:
    """A warehouse in `directory` loaded through the real ingest path (which publishes the snapshot)."""
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / "dora.duckdb"
    log = directory / "events.jsonl"
    log.write_text(cdevents.to_jsonl(events if events is not None else dashboard_events()), encoding="utf-8")
    con = open_warehouse(db)
    try:
        run_eventlog_ingest(con, db, [str(log)], MetricSettings())
    finally:
        con.close()
    return db


def ingest_with_cli(db: Path, log: Path) -> subprocess.CompletedProcess:
    """`dora ingest events LOG --db DB` as a user runs it (exit 3: loaded, with rejected lines)."""
    return subprocess.run([sys.executable, "-m", "dora", "ingest", "events", str(log), "--db", str(db), "-q"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll `url` until it answers 200 (the server is ready), or fail if the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited with {process.returncode}: {process.stdout.read() if process.stdout else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)  # polling interval, not a wait for an event we could subscribe to
    raise AssertionError(f"{url} did not answer within {timeout} s")


@contextmanager
def serve_dashboard(db: Path, command: list[str] | None = None, scopes: str | None = None) -> Iterator[str]:
    """Run the dashboard on `db` on a free loopback port, as `dora dashboard --no-open` starts it (with
    dora.toml's teams and goals as `scopes`, metrics.goals.dump_scopes) unless another `command` is
    given ("{port}" in it is the port); yields its base URL, stops it afterwards."""
    port = free_port()
    command = command or build_streamlit_command(db, port=port, host="127.0.0.1", open_browser=False, scopes=scopes)
    command = [str(port) if c == "{port}" else c for c in command]
    env = {k: v for k, v in os.environ.items() if k not in ("DORA_DB", "DORA_CONFIG")}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()


@pytest.fixture(scope="module")
def fixture_db(tmp_path_factory) -> Path:
    """The fixture warehouse, built once per test module."""
    return build_warehouse(tmp_path_factory.mktemp("dashboard"))


def test_fixture_loads_with_the_metrics_it_is_written_for(fixture_db):
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    try:
        rows = con.execute(
            """
            SELECT period_start::VARCHAR, deployments, failed_deployments, unplanned_deployments, incidents,
                   changes_deployed
            FROM metric_periods
            WHERE grain = 'month' AND service = 'all' AND environment = 'production'
            ORDER BY period_start
            """
        ).fetchall()
        findings = con.execute("SELECT finding, entity_id FROM dq_findings ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert rows == [
        ("2026-04-01", 4, 1, 1, 0, 5),   # pay-1..3, srch-1; pay-2 rolled back; pay-3 a hotfix
        ("2026-05-01", 2, 2, 0, 2, 2),   # pay-4 (INC-1 by the window), srch-2 (INC-2 named)
        ("2026-06-01", 1, 0, 0, 0, 1),
    ]
    assert ("change_not_deployed", "acme/payments#7") in findings
    assert ("incident_unresolved", "INC-2") in findings
