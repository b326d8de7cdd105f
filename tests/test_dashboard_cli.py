"""`dora dashboard`: the command line it runs, the snapshot it prepares, and a real start on loopback."""
from __future__ import annotations

import subprocess
import sys
import urllib.request


from dora.cli.dashboard import build_streamlit_command, refresh_snapshot
from dora.config import load_config
from ingest.warehouse import snapshot_path
from tests.test_dashboard_fixture import build_warehouse, serve_dashboard


def test_the_command_binds_to_localhost_without_prompts_or_usage_statistics(tmp_path):
    command = build_streamlit_command(tmp_path / "dora.duckdb", port=8600, host="127.0.0.1", open_browser=False)
    # the launcher that warms the server up, given `streamlit run dashboard/app.py`'s options
    assert command[:3] == [sys.executable, "-m", "dashboard.serve"]
    pairs = dict(zip(command[3::2], command[4::2]))
    assert pairs["--server.address"] == "127.0.0.1" and pairs["--server.port"] == "8600"
    assert pairs["--browser.gatherUsageStats"] == "false" and pairs["--server.showEmailPrompt"] == "false"
    assert pairs["--server.headless"] == "true"
    assert command[-3:] == ["--", "--db", str(tmp_path / "dora.duckdb")]
    assert "--server.headless" not in build_streamlit_command(tmp_path, port=1, host="h", open_browser=True)


def test_refresh_publishes_a_missing_snapshot(tmp_path):
    db = build_warehouse(tmp_path)
    snapshot_path(db).unlink()
    assert refresh_snapshot(load_config(None, db)) is None
    assert snapshot_path(db).exists()


def test_refresh_leaves_a_warehouse_another_process_is_writing(tmp_path):
    db = build_warehouse(tmp_path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys; c = duckdb.connect(sys.argv[1]); print('open', flush=True); "
                               "sys.stdin.read()", str(db)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        note = refresh_snapshot(load_config(None, db))
        assert note is not None and "being written by another process" in note
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)


def test_dora_dashboard_serves_the_app_on_loopback(tmp_path):
    db = build_warehouse(tmp_path)
    command = [sys.executable, "-m", "dora", "dashboard", "--db", str(db), "--port", "{port}", "--no-open"]
    with serve_dashboard(db, command) as url:
        with urllib.request.urlopen(url, timeout=10) as response:
            assert response.status == 200
            assert "<title>Streamlit</title>" in response.read().decode()


def test_dora_dashboard_becomes_the_launcher_with_the_command_it_builds(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dora.cli import dashboard as command_module

    db = build_warehouse(tmp_path)
    monkeypatch.chdir(tmp_path)  # no dora.toml: no teams passed
    became = []
    monkeypatch.setattr(command_module.os, "execv", lambda path, argv: became.append((path, argv)))
    result = CliRunner().invoke(command_module.dashboard, ["--db", str(db), "--port", "8601", "--no-open", "-q"],
                                env={"DORA_DB": None, "DORA_CONFIG": None})
    assert result.exit_code == 0, result.output
    expected = build_streamlit_command(db.resolve(), port=8601, host="127.0.0.1", open_browser=False)
    assert became == [(sys.executable, expected)] and expected[1:3] == ["-m", "dashboard.serve"]
