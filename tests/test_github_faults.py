"""GitHub faults: every one is survived with nothing lost or duplicated (fake server, real PyGithub)."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main
from ingest.github import RepoSettings
from ingest.warehouse import open_warehouse, snapshot_path
from tests.fakegithub import FakeGitHub, build_history, run_github, warehouse_state, write_config

PAYMENTS = RepoSettings("acme/payments", service="payments")
LEDGER = RepoSettings("acme/ledger", service="ledger")


@pytest.fixture(scope="module")
def server():
    # one server for the module (the tests change only its faults and budget, reset below), so the
    # clean run's state is computed once: payloads carry the server's own URLs
    with FakeGitHub() as server:
        server.add(build_history("acme/payments", n_prs=25, n_deployments=8, n_incidents=4, seed=3).repo)
        server.add(build_history("acme/ledger", n_prs=12, n_deployments=5, n_incidents=2, seed=4, repo_id=77).repo)
        yield server


@pytest.fixture
def fake(server):
    token = server.token
    server.release.clear()
    yield server
    with server.lock:
        server.faults.clear()
        server.remaining = {"core": server.rate_limit, "graphql": server.rate_limit}
    server.token = token
    server.release.set()
    server.arrived.clear()
    server.reset_counts()


@pytest.fixture(scope="module")
def clean(server, tmp_path_factory):
    """The state a run without faults leaves."""
    path = tmp_path_factory.mktemp("clean") / "clean.duckdb"
    con = open_warehouse(path)
    run_github(con, path, server, [PAYMENTS, LEDGER])
    state = warehouse_state(con)
    con.close()
    server.reset_counts()
    return state


def fresh(tmp_path: Path, name: str = "dora.duckdb"):
    return open_warehouse(tmp_path / name), tmp_path / name


@pytest.mark.parametrize("route, kind", [
    ("PullRequests", "500"), ("History", "502"), ("Deployments", "secondary"),
    ("PullRequests", "truncated"), ("rest:issues", "truncated"), ("History", "timeout"), ("rest:issues", "429"),
])
def test_transient_faults_are_retried_and_the_result_equals_a_clean_run(fake, clean, tmp_path, route, kind):
    fake.inject(route, kind, times=1 if kind == "timeout" else 2)  # a timeout costs a second
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [PAYMENTS, LEDGER], timeout_seconds=1)
    assert [s.outcome for s in result.sources] == ["ok", "ok"]
    assert warehouse_state(con) == clean
    failed = [s for r, s in fake.calls if r.startswith("graphql:" + route) or r == route]
    assert len(failed) >= (2 if kind == "timeout" else 3)  # the faults, then the answer


def test_a_secondary_rate_limit_honours_retry_after(fake, clean, tmp_path):
    fake.inject("PullRequests", "secondary", times=1, retry_after="1")
    con, path = fresh(tmp_path)
    started = time.monotonic()
    result = run_github(con, path, fake, [PAYMENTS, LEDGER])
    assert time.monotonic() - started >= 1.0
    assert [s.outcome for s in result.sources] == ["ok", "ok"]
    assert warehouse_state(con) == clean


def test_a_missing_repository_is_reported_and_skipped_and_the_others_load(fake, tmp_path):
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [RepoSettings("acme/nope"), PAYMENTS])
    assert [(s.name, s.outcome) for s in result.sources] == [("acme/nope", "failed"), ("acme/payments", "ok")]
    assert result.sources[0].message == "repository acme/nope not found, or the token cannot read it; skipped"
    assert result.failed and result.metrics_ok
    assert con.execute("SELECT origin, target, outcome FROM ingest_runs ORDER BY run_id").fetchall() == [
        ("github", "acme/nope", "failed"), ("github", "acme/payments", "ok")]


def test_a_forbidden_repository_is_reported_and_skipped(fake, tmp_path):
    fake.inject("/repos/acme/payments/issues", "forbidden", times=1)
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [PAYMENTS, LEDGER])
    assert [s.outcome for s in result.sources] == ["failed", "ok"]
    assert result.sources[0].message == (
        "access to acme/payments forbidden (403 Resource not accessible by personal access token); skipped")


def test_a_stream_that_keeps_failing_commits_nothing_partial_and_the_rerun_completes(fake, clean, tmp_path):
    fake.inject("Deployments", "500", times=100)
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [PAYMENTS, LEDGER], max_retries=1)
    assert [s.outcome for s in result.sources] == ["failed", "failed"]
    assert result.sources[0].message.startswith("GitHub kept failing after retries")
    # history and PRs (streams before it) are kept; no deployment at all, no watermark for them
    assert con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.deployment'").fetchall() == [(0,)]
    assert con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.pull_request'").fetchall() == [(37,)]
    assert con.execute("SELECT count(*) FROM ingest_watermarks WHERE stream = 'deployments'").fetchall() == [(0,)]
    fake.faults.clear()
    result = run_github(con, path, fake, [PAYMENTS, LEDGER])
    assert [s.outcome for s in result.sources] == ["ok", "ok"]
    assert warehouse_state(con) == clean


def test_an_exhausted_rate_limit_stops_cleanly_and_the_next_run_resumes(fake, clean, tmp_path):
    fake.inject("PullRequests", "primary", times=1, skip=1)  # the second repository's PRs
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [PAYMENTS, LEDGER, RepoSettings("acme/third")])
    assert [s.outcome for s in result.sources] == ["ok", "failed", "skipped"]
    assert result.sources[1].message == "GitHub rate limit exhausted; what was read is kept and the next run resumes"
    assert result.sources[2].message.startswith("not read: rate limit exhausted until 20")
    assert fake.count("graphql:PullRequests") == 2  # no hammering: the wait would exceed the cap, so it stopped
    with fake.lock:
        fake.remaining = {"core": 5000, "graphql": 5000}
    result = run_github(con, path, fake, [PAYMENTS, LEDGER])
    assert [s.outcome for s in result.sources] == ["ok", "ok"]
    assert warehouse_state(con) == clean


def test_a_rejected_token_gives_one_clear_message_and_stops_asking(fake, tmp_path):
    con, path = fresh(tmp_path)
    result = run_github(con, path, fake, [PAYMENTS, LEDGER], token="ghp_wrong")
    assert [(s.outcome, s.message) for s in result.sources] == [
        ("failed", "GitHub rejected the token (401 Bad credentials): set GITHUB_TOKEN to a valid token"),
        ("skipped", "not read: GitHub rejected the token")]
    assert fake.count() == 1


def test_the_token_never_reaches_the_database_logs_or_exports(fake, tmp_path, caplog, monkeypatch):
    token = fake.token
    monkeypatch.setenv("GITHUB_TOKEN", token)
    config = tmp_path / "dora.toml"
    write_config(config, fake, ["acme/payments", "acme/nope"], db=str(tmp_path / "dora.duckdb"))
    caplog.set_level(logging.DEBUG)  # PyGithub logs every request and response at DEBUG
    runner = CliRunner()
    first = runner.invoke(main, ["nightly", "--config", str(config), "--format", "text"])
    fake.token = "ghp_rotated"  # the old token is now rejected: the failure path must not leak it either
    second = runner.invoke(main, ["ingest", "github", "--config", str(config), "--format", "json"])
    export = runner.invoke(main, ["export", "--config", str(config), "--table", "summary"])
    rejects = runner.invoke(main, ["rejects", "--config", str(config)])
    assert first.exit_code == 1 and second.exit_code == 1 and export.exit_code == 0
    assert "GitHub rejected the token" in second.output
    assert any("POST" in r.getMessage() for r in caplog.records)  # the requests were logged ...
    # every text column of every table, queried (the file itself may store strings compressed)
    con = open_warehouse(tmp_path / "dora.duckdb", read_only=True)
    columns = con.execute("""SELECT table_name, column_name FROM information_schema.columns
                             WHERE data_type IN ('VARCHAR', 'JSON') AND table_schema = 'main'""").fetchall()
    assert len(columns) > 20
    for table, column in columns:
        hits = con.execute(f'SELECT count(*) FROM "{table}" WHERE "{column}"::VARCHAR LIKE ?', [f"%{token}%"]).fetchall()
        assert hits == [(0,)], (table, column)
    con.close()
    texts = [first.output, second.output, export.output, rejects.output, caplog.text]
    for f in (tmp_path / "dora.duckdb", snapshot_path(tmp_path / "dora.duckdb")):
        texts.append(f.read_bytes().decode("latin-1"))
    for text in texts:
        assert token not in text  # ... with the token masked


def test_a_run_killed_mid_backfill_resumes_to_the_same_result_as_a_clean_run(fake, tmp_path):
    config = tmp_path / "dora.toml"
    db = tmp_path / "killed.duckdb"
    write_config(config, fake, ["acme/payments"], db=str(db), extra="page_size = 5\ncheckpoint_pages = 1")
    fake.inject("PullRequests", "block", times=1, skip=2)  # hold the third page of PRs until killed
    env = {**os.environ, "GITHUB_TOKEN": fake.token}
    proc = subprocess.Popen([sys.executable, "-m", "dora", "nightly", "--config", str(config)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert fake.arrived.wait(60), proc.stderr.read() if proc.poll() is not None else "no request"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    fake.release.set()
    con = open_warehouse(db)
    committed = con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.pull_request'").fetchall()
    assert committed == [(10,)]  # the two pages committed before the kill, nothing more
    rerun = CliRunner().invoke(main, ["nightly", "--config", str(config)], env={"GITHUB_TOKEN": fake.token})
    con.close()
    assert rerun.exit_code == 0, rerun.output
    con = open_warehouse(db)
    other, other_path = fresh(tmp_path, "clean.duckdb")
    run_github(other, other_path, fake, [RepoSettings("acme/payments")], page_size=5)
    assert warehouse_state(con) == warehouse_state(other)
    assert con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.pull_request'").fetchall() == [(25,)]
    con.close()
    other.close()
