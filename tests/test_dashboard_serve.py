"""dashboard/serve.py, the launcher `dora dashboard` runs: Streamlit's own `run` in-process, warmed up beside it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import date

import pytest
from streamlit.web import cli

from dashboard import serve
from dora.jobs_context import run_annotation_add
from ingest.warehouse import open_warehouse, publish_snapshot, snapshot_path
from metrics.build import MetricSettings
from tests.test_dashboard_fixture import ROOT, build_warehouse, free_port, wait_for_http


def test_the_launcher_runs_streamlit_run_on_the_app_with_its_options(monkeypatch):
    seen = {}
    monkeypatch.setattr(cli, "main", lambda args, prog_name: seen.update(args=args, prog_name=prog_name))
    monkeypatch.setattr(serve, "run_warm_up", lambda app_args: seen.update(app_args=app_args))
    serve.main(["--server.port", "8600", "--server.headless", "true", "--", "--db", "w.duckdb", "--teams", "{}"])
    for thread in threading.enumerate():
        if thread.name == "dora-warm-up":
            thread.join(timeout=10)
    assert seen["args"] == ["run", str(ROOT / "dashboard" / "app.py"), "--server.port", "8600", "--server.headless",
                            "true", "--", "--db", "w.duckdb", "--teams", "{}"]
    assert seen["prog_name"] == "streamlit"  # as `python -m streamlit` names itself
    assert seen["app_args"] == ["--db", "w.duckdb", "--teams", "{}"]


def test_the_pages_imports_are_found_in_their_source():
    names = serve.find_page_imports([ROOT / "dashboard" / "app.py", *(ROOT / "dashboard" / "views").glob("*.py")])
    assert {"streamlit", "pandas", "dashboard.charts", "dashboard.data", "dashboard.ui"} <= set(names)
    assert "__future__" not in names


def test_the_warm_up_opens_the_snapshot_and_passes_over_a_missing_one(tmp_path):
    db = build_warehouse(tmp_path / "with")
    serve.warm_up(["--db", str(db)])
    serve.warm_up(["--db", str(tmp_path / "nothing published" / "dora.duckdb")])  # no snapshot yet: nothing to open


def test_the_warm_up_reads_what_the_overview_shows_first(tmp_path, monkeypatch):
    """The Overview's default view — the organisation by month, its cards against the first baseline
    window — is read by the warm-up through the page's own loaders and arguments: the page then finds
    every one of them cached (here: reading anything again fails)."""
    import streamlit as st

    from dashboard import data
    from metrics import compare
    from metrics.filters import Team
    from metrics.goals import Goals, dump_scopes

    st.cache_data.clear()
    db = build_warehouse(tmp_path)
    con = open_warehouse(db)
    run_annotation_add(con, db, MetricSettings(), "flags", date(2026, 5, 1), None, None)
    publish_snapshot(con, db)
    con.close()
    teams = (Team("checkout", ("payments",)),)
    serve.warm_up(["--db", str(db), "--teams", dump_scopes(teams, Goals())])
    snap = data.find_snapshot(db)
    monkeypatch.setattr(data, "read_snapshot", lambda snap: pytest.fail("read again"))
    view = data.View(grain="month", environment="production", teams=teams)  # as the sidebar's defaults make it
    summary = data.load_summary(snap, view)
    data.load_levels(snap, view)
    data.load_annotations(snap, view)
    windows = data.load_baselines(snap, compare.Scope())
    assert list(windows) == ["before", "1"]
    comparison, reason = data.load_baseline_comparison(snap, (windows["before"].start, windows["before"].end),
                                                       (date(2026, 6, 1), date(2026, 6, 1)), compare.Scope(),
                                                       "production")
    assert reason is None and not comparison.empty and len(summary) == 3
    st.cache_data.clear()


def test_a_failed_warm_up_is_one_line_and_the_server_still_serves(tmp_path):
    db = tmp_path / "dora.duckdb"
    snapshot_path(db).write_bytes(b"not a DuckDB file")  # the warm-up cannot open it
    port = free_port()
    errors = tmp_path / "stderr.txt"
    env = {k: v for k, v in os.environ.items() if k not in ("DORA_DB", "DORA_CONFIG")}
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "dashboard.serve", "--server.headless", "true", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false", "--server.fileWatcherType",
             "none", "--", "--db", str(db)], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
        try:
            wait_for_http(f"http://127.0.0.1:{port}/_stcore/health", process)
            deadline = time.monotonic() + 60
            while "warm-up" not in errors.read_text() and time.monotonic() < deadline:
                time.sleep(0.1)  # the warm-up runs in the background once the server answers
            skipped = [line for line in errors.read_text().splitlines() if "warm-up" in line]
            assert len(skipped) == 1 and skipped[0].startswith("dashboard warm-up skipped: "), errors.read_text()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                assert response.status == 200
            process.send_signal(signal.SIGTERM)  # as a service manager stops it: Streamlit's own handler
            assert process.wait(timeout=15) == 0
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
