"""Reads never block writes: a real `dora ingest events` process loads data while the dashboard serves.

DuckDB allows one writing process or many reading ones per file. The dashboard reads only the
snapshot the writer publishes after it commits, so both must succeed at the same time, and the new
data must appear in the running app without a restart.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.test_dashboard_fixture import APP, ROOT, SAMPLE, build_warehouse, serve_dashboard

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture
def big_log(tmp_path) -> Path:
    """A log that takes the writer a few seconds: the bundled sample (generated if not checked out)."""
    if SAMPLE.exists():
        return SAMPLE
    subprocess.run([sys.executable, "-m", "tools.samplegen", "--out", str(tmp_path / "sample")], check=True,
                   cwd=ROOT, capture_output=True)
    return tmp_path / "sample" / "events.jsonl"


def start_writer(db: Path, log: Path) -> subprocess.Popen:
    """`dora ingest events` in its own process, as cron or `dora nightly` runs it."""
    return subprocess.Popen([sys.executable, "-m", "dora", "ingest", "events", str(log), "--db", str(db), "-q"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(writer: subprocess.Popen) -> None:
    _, stderr = writer.communicate(timeout=120)
    assert writer.returncode in (0, 3), stderr  # 3: loaded; the sample's malformed lines were rejected


def test_the_app_keeps_serving_while_a_writer_loads_and_then_shows_the_new_data(tmp_path, monkeypatch, big_log):
    st.cache_data.clear()
    db = build_warehouse(tmp_path)
    monkeypatch.setenv("DORA_DB", str(db))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.run()
    assert any(re.fullmatch(r"\*\*All services\*\* · Jun 2026 \(so far: \d+ of 30 days\), compared with May 2026",
                            m.value) for m in app.markdown), [m.value for m in app.markdown]

    writer = start_writer(db, big_log)
    renders_while_writing = 0
    try:
        while writer.poll() is None:
            app.run()
            assert not app.exception, [e.message for e in app.exception]
            assert len(app.metric) == 6  # every card, from the last published snapshot
            renders_while_writing += writer.poll() is None
    finally:
        finish(writer)
    assert renders_while_writing >= 1, "the writer finished before the app rendered once: use a bigger log"

    app.run()
    assert not app.exception
    assert app.sidebar.date_input[0].value[1].isoformat() > "2026-06-01"
    assert "**All services** · Nov 2026, compared with Oct 2026" in [m.value for m in app.markdown]
    st.cache_data.clear()


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's Chromium at /usr/bin/chromium")
def test_a_served_dashboard_and_a_writer_process_run_at_once(tmp_path, big_log):
    from playwright.sync_api import sync_playwright

    db = build_warehouse(tmp_path)
    with serve_dashboard(db) as url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.set_default_timeout(30_000)
        page.goto(url)
        page.get_by_text(re.compile(r"Jun 2026 \(so far: \d+ of 30 days\)")).wait_for()

        writer = start_writer(db, big_log)
        loads_while_writing = 0
        try:
            while writer.poll() is None:
                page.reload()
                page.get_by_text(re.compile(r"^All services")).first.wait_for()
                assert page.locator('[data-testid="stException"]').count() == 0
                loads_while_writing += writer.poll() is None
        finally:
            finish(writer)
        assert loads_while_writing >= 1

        page.reload()
        page.get_by_text("Nov 2026, compared with Oct 2026").wait_for()  # new data, same server process
        assert page.locator('[data-testid="stException"]').count() == 0
        browser.close()
