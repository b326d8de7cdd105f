"""The floor under the dashboard's browser timings: a Streamlit page with almost nothing on it.

bench_dashboard.py times the dashboard in Chromium on this machine; much of each step is Streamlit's
own work and the browser's, not ours (docs/performance.md, "Dashboard"). This script times the same
steps, the same way (bench_dashboard's "done": the heading shown, the Plotly charts drawn, the app's
script state not running; the CPU seconds of server and browser from /proc), on an app with no data
and no work: one heading, a period choice in the sidebar (as the dashboard's), one Plotly bar chart of 24 bars and a table
of 10 rows, served with the dashboard's Streamlit settings. What it takes is what no change to our
pages or queries can take off a step, on this machine:

- the first visit after the server starts: a new browser, then a browser that visited before (after
  a restart of the server on the same port), at once and ARRIVAL_S later;
- a reload of the page (what a page opened as a link costs, as the dashboard's cached reload);
- a change of the period in the sidebar, timed inside the page (bench_dashboard's CLICK_AND_WAIT).

    .venv/bin/python bench/bench_streamlit_floor.py --repeat 5

Prints one JSON object (each step's wall seconds and CPU seconds of server and browser, per run).
Needs /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT))

from bench_dashboard import (ARRIVAL_S, CHROMIUM, CLICK_AND_WAIT, THINK_MS, free_port, record_step,  # noqa: E402
                             timed, wait_done)
from dora.cli.dashboard import STREAMLIT_SETTINGS  # noqa: E402

HEADING = "Almost nothing"
APP = '''
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="floor", layout="wide")
grain = st.sidebar.segmented_control("Period", ["Week", "Month", "Quarter", "Day"], default="Month") or "Month"
st.title("%s")
st.subheader(f"Deployments per {grain.lower()}")
st.plotly_chart(go.Figure(go.Bar(x=list(range(24)), y=[(i * 7) %% 11 for i in range(24)])))
st.dataframe(pd.DataFrame({"period": range(10), "deployments": range(10, 20)}))
''' % HEADING


def start_server(app: Path, port: int) -> subprocess.Popen:
    """`streamlit run app` with the dashboard's settings, once it answers its health check."""
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true",
               "--browser.serverAddress", "localhost"]
    for key, value in STREAMLIT_SETTINGS.items():
        command += [f"--{key}", value]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("streamlit did not start within 60 s")


def measure(repeat: int) -> dict[str, list[tuple[float, float, float]]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[tuple[float, float, float]]] = {}
    folder = Path(tempfile.mkdtemp(prefix="dora-floor-"))
    app = folder / "floor.py"
    app.write_text(APP, encoding="utf-8")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = None

    def record(name: str, step) -> None:
        record_step(results, name, server.pid, step)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        profile = browser.new_context(viewport={"width": 1280, "height": 800})
        page = None
        try:
            for visitor, pause in (("new browser", 0), ("browser visited before", 0),
                                   (f"browser visited before, {ARRIVAL_S} s after the start", ARRIVAL_S)):
                if server is not None:
                    page.close()
                    server.terminate()
                    server.wait(timeout=30)
                server = start_server(app, port)
                page = profile.new_page()
                page.wait_for_timeout(pause * 1000)
                record(f"first visit after the server starts ({visitor})",
                       lambda: timed(lambda: (page.goto(url), wait_done(page, HEADING, 1))))
            for _ in range(repeat):
                record("reload", lambda: timed(lambda: (page.reload(), wait_done(page, HEADING, 1))))
            for _ in range(repeat):
                for grain in ("Week", "Quarter", "Day", "Month"):
                    page.wait_for_timeout(THINK_MS)
                    record("period change", lambda: page.evaluate(CLICK_AND_WAIT, [grain, f"Deployments per {grain.lower()}"]))
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=30)
            browser.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    results = measure(args.repeat)
    summary = {name: {"wall_s": [round(r[0], 3) for r in runs], "server_cpu_s": [round(r[1], 2) for r in runs],
                      "browser_cpu_s": [round(r[2], 2) for r in runs]} for name, runs in results.items()}
    print(json.dumps({"machine": platform.node(), "cpus": os.cpu_count(), "load_average": os.getloadavg(),
                      "steps": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
