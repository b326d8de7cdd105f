"""Dashboard speed on the benchmark warehouse: first render of every page, and filter changes.

Targets (issue 13), on the 1M-deployment warehouse: every page's first render with cold data caches
≤ 1 s, any filter change (a period, a service, a team) ≤ 0.5 s, the first visit after the server
starts ≤ 2 s. The server runs as `dora dashboard` starts it with teams and goals in dora.toml: the
warehouse's services in teams of 20 (`team-01`, …; the last 20 services in no team) and three goals,
passed as `--teams`; the Overview compares each card with its default baseline, the window before
the first annotation (two annotations are added when the warehouse has none: see
`ensure_annotations`). Measured two ways in one run:

- in a real browser (Debian's Chromium through Playwright) against the server as `dora dashboard` starts it:
  from navigation (or the click, timed inside the page) until the page's content is there, its
  Plotly charts drawn and Streamlit reports the run finished (no stale element, no "running"
  indicator, the app's script state not running). Before each measured render the snapshot's modification time is moved on, which is
  what a nightly load does: every cached query misses, while the server process and the browser
  stay warm. The very first visit after the server starts (Python imports, the browser fetching
  Streamlit's scripts: in a new browser, then after restarts of the server in the same browser, at
  once and ARRIVAL_S later) and a cached reload are reported beside them. Filter changes come a second
  after the page has drawn (a person reading it): the period changes find the other grains that
  the page prefetched meanwhile (data.prefetch_grains); choosing a team finds every team's figures
  read meanwhile (data.prefetch_picks) but not its cards' comparison with their baseline, choosing a
  service only every service's data span; a pick is timed from the first keystroke in the box and
  from the choice (the Enter); every page is opened as a link for the organisation and for one team, and from the
  sidebar (no reload of the app) for the organisation;
- server-side, the data-access calls each page makes on the snapshot, uncached, to show where the
  time goes (on the process's shared connection: the snapshot's pages DuckDB already read stay in
  its buffers, as they do in the dashboard).

Each browser step also reports the CPU seconds the dashboard's server and the browser spent during it
(from /proc): on the shared 2-core machine they say where the time goes when the wall clock mostly
says how busy the machine was.

    .venv/bin/python bench/bench_dashboard.py                  # bench/out/bench.duckdb (make_dataset.py)
    .venv/bin/python bench/bench_dashboard.py --db other.duckdb

Publishes the warehouse's read snapshot first if it is missing or older than the warehouse (as every
writer does). Needs /usr/bin/chromium.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dora.cli.dashboard import build_streamlit_command  # noqa: E402
from ingest.warehouse import open_warehouse, publish_snapshot, snapshot_path  # noqa: E402
from metrics.filters import Team  # noqa: E402
from metrics.goals import Goals, dump_scopes, parse_goal  # noqa: E402

DEFAULT_DB = ROOT / "bench" / "out" / "bench.duckdb"
CHROMIUM = "/usr/bin/chromium"
# Done: nothing stale, no "running" indicator, and the app's own script state not running (the
# indicator shows only after a moment: without the state, a page opened from the sidebar counted as
# drawn while its script still ran).
IDLE = ("!document.querySelector('[data-stale=\"true\"]') "
        "&& !document.querySelector('[data-testid=\"stStatusWidget\"]') "
        "&& document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state') !== 'running'")
PAGES = [  # (url path, heading, charts it draws at least)
    ("", "Are we getting faster and safer?", 1), ("trends", "Trends", 1), ("before-after", "Before and after", 3),
    ("story", "Phase story", 1), ("lead-time", "Lead time breakdown", 2), ("batch-size", "Batch size and risk", 3),
    ("pipeline", "Pipeline health", 0), ("incidents", "Incidents and failed deployments", 1),
    ("quality", "Data quality", 1),
]
TEAM_SIZE = 20  # services per bench team; the last TEAM_SIZE services stay in no team
GOALS = {"change_failure_rate": "<= 5%", "lead_time": "<= 1 day", "deployment_frequency": ">= 1 per day"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db", type=Path, default=DEFAULT_DB, help=f"warehouse (default {DEFAULT_DB.relative_to(ROOT)})")
    p.add_argument("--repeat", type=int, default=5, help="how many times to measure each uncached render")
    p.add_argument("--first-visit-only", action="store_true",
                   help="measure only the first visits after the server starts (see measure_browser)")
    return p.parse_args(argv)


def ensure_snapshot(db: Path) -> Path:
    """The read snapshot the dashboard opens, published now if missing or older than the warehouse."""
    snap = snapshot_path(db)
    if not snap.exists() or snap.stat().st_mtime < db.stat().st_mtime:
        started = time.perf_counter()
        con = open_warehouse(db)
        publish_snapshot(con, db)
        con.close()
        print(f"published {snap.name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return snap


def ensure_annotations(db: Path) -> None:
    """Two organisation-wide annotations, at a third and two thirds of the data's days, when the
    warehouse has none: the Overview's default baseline is the window before the first one, so
    without them the cards' comparison with a baseline would not be measured."""
    con = open_warehouse(db, read_only=True)
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        if "annotations" in tables and con.execute("SELECT count(*) FROM annotations").fetchall()[0][0]:
            return
        first, last = con.execute("SELECT min(finished_at)::DATE, max(finished_at)::DATE FROM fct_deployments "
                                  "WHERE environment = 'production'").fetchall()[0]
    finally:
        con.close()
    for n, share in ((1, 1 / 3), (2, 2 / 3)):
        day = first + (last - first) * share
        subprocess.run([sys.executable, "-m", "dora", "annotate", "add", f"bench phase {n}", "--date", f"{day:%Y-%m-%d}",
                        "--db", str(db), "-q"], cwd=ROOT, check=True)
    print("added the annotations 'bench phase 1' and 'bench phase 2'", file=sys.stderr)


def bench_scopes(snap: Path) -> tuple[str, str]:
    """dump_scopes' JSON of the bench teams (the services by name in teams of TEAM_SIZE) and GOALS;
    and the first team's name."""
    con = open_warehouse(snap, read_only=True)
    try:
        services = [r[0] for r in con.execute("SELECT DISTINCT service FROM fct_deployments WHERE environment = "
                                              "'production' ORDER BY service").fetchall()]
    finally:
        con.close()
    owned = services[:-TEAM_SIZE] if len(services) > TEAM_SIZE else services
    teams = tuple(Team(f"team-{n + 1:02d}", tuple(owned[i:i + TEAM_SIZE]))
                  for n, i in enumerate(range(0, len(owned), TEAM_SIZE)))
    goals = Goals(organisation=tuple(parse_goal(m, text) for m, text in GOALS.items()))
    return dump_scopes(teams, goals), teams[0].name


def describe(snap: Path) -> dict:
    con = open_warehouse(snap, read_only=True)
    try:
        def one(sql: str):
            return con.execute(sql).fetchall()[0][0]
        return {
            "production deployments": one("SELECT count(*) FROM fct_deployments WHERE environment = 'production'"),
            "changes": one("SELECT count(*) FROM fct_changes"),
            "incidents": one("SELECT count(*) FROM fct_incidents"),
            "services": one("SELECT count(DISTINCT service) FROM fct_deployments"),
            "metric_periods rows": one("SELECT count(*) FROM metric_periods"),
            "snapshot size (GB)": round(snap.stat().st_size / 1e9, 2),
            "first service": one("SELECT min(service) FROM fct_deployments WHERE environment = 'production'"),
        }
    finally:
        con.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(db: Path, scopes: str, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """The dashboard's server on `port` (a free one by default), started with the command line
    `dora dashboard` runs (its launcher and settings), once it answers its health check."""
    port = port or free_port()
    command = build_streamlit_command(db, port=port, host="127.0.0.1", open_browser=False, scopes=scopes)
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("the dashboard did not start within 60 s")


def wait_page(page, heading: str, charts: int) -> None:
    """Until the page titled `heading` is drawn (its h1: the sidebar's links name the pages too) and
    done (wait_done)."""
    page.locator("h1", has_text=heading).first.wait_for(timeout=120_000)
    wait_done(page, None, charts)


def wait_done(page, text: str | None, charts: int) -> None:
    """Until `text` shows, `charts` Plotly charts are drawn and Streamlit has finished the run."""
    if text:
        page.get_by_text(text, exact=False).first.wait_for(timeout=120_000)
    page.wait_for_function(
        f"[...document.querySelectorAll('.js-plotly-plot')].filter(p => p.querySelector('.main-svg')).length "
        f">= {charts} && {IDLE}", timeout=120_000)


def timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


# A filter change timed inside the page, from the click to the end of the rerun it starts (the new
# heading shown, nothing stale, no "running" indicator), so the automation's own latency is left out.
CLICK_AND_WAIT = """async ([label, heading]) => {
  const idle = () => %s;
  const shown = () => [...document.querySelectorAll('h3')].some(h => h.textContent.includes(heading));
  const button = [...document.querySelectorAll('[data-testid="stSidebar"] button[role="radio"]')]
      .find(b => b.textContent.trim() === label);
  const started = performance.now();
  button.click();
  await new Promise(done => {
    const check = () => (shown() && idle()) ? done() : requestAnimationFrame(check);
    requestAnimationFrame(check);
  });
  return (performance.now() - started) / 1000;
}""" % IDLE


THINK_MS = 1000  # a person reads the page for a moment before the next click
ARRIVAL_S = 5  # a first visitor who opens the link a moment after the server has started


def pick_service(page, service: str) -> float:
    """Choose `service` in the sidebar's Services box, and wait for its cards; the seconds from the
    choice (the Enter that picks the typed name) to the cards."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"] input')
    box.click()
    box.fill(service)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    wait_done(page, f"{service} ·", 1)
    return time.perf_counter() - started


def open_from_sidebar(page, path: str) -> None:
    """Click the page's link in the sidebar's navigation: Streamlit switches pages without a reload."""
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').first.click()


def pick_team(page, team: str) -> float:
    """Choose `team` in the sidebar's Team box, and wait for its cards; the seconds from the choice
    (the Enter that picks the typed name) to the cards."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(has_text="Team").first
    box.click()
    page.keyboard.type(team)
    started = time.perf_counter()
    page.keyboard.press("Enter")
    wait_done(page, f"Team {team} ·", 1)
    return time.perf_counter() - started


def invalidate_caches(snap: Path) -> None:
    """A new modification time is a new cache key for every cached query: the next render reads the
    snapshot afresh, as after a nightly load, while the server and the browser stay warm."""
    os.utime(snap)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def process_cpu(server_pid: int) -> tuple[float, float]:
    """CPU seconds (user + system) used so far by the dashboard's server and by the browser: the
    processes descended from `server_pid`, and the other processes descended from this one
    (Chromium, and Playwright's driver). Linux only (/proc)."""
    parents: dict[int, list[int]] = {}
    used: dict[int, float] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        parents.setdefault(int(fields[1]), []).append(int(entry))
        used[int(entry)] = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def tree(root: int) -> set[int]:
        found, todo = set(), [root]
        while todo:
            pid = todo.pop()
            found.add(pid)
            todo += parents.get(pid, [])
        return found

    server = tree(server_pid)
    browser = tree(os.getpid()) - server - {os.getpid()}
    return sum(used.get(p, 0.0) for p in server), sum(used.get(p, 0.0) for p in browser)


def record_step(results: dict[str, list[tuple[float, float, float]]], name: str, server_pid: int, step) -> None:
    """Run `step` (it returns its seconds) and keep them under `name` with the CPU seconds the server
    and the browser spent meanwhile: on a shared machine, wall-clock times follow the load."""
    server_cpu, browser_cpu = process_cpu(server_pid)
    seconds = step()
    server_after, browser_after = process_cpu(server_pid)
    results.setdefault(name, []).append((seconds, server_after - server_cpu, browser_after - browser_cpu))
    print(f"  {name}: {seconds:.3f} s (CPU: server {server_after - server_cpu:.2f} s, browser "
          f"{browser_after - browser_cpu:.2f} s)", file=sys.stderr)


def measure_browser(db: Path, repeat: int, service: str, scopes: str, team: str,
                    first_visit_only: bool = False) -> dict[str, list[tuple[float, float, float]]]:
    from playwright.sync_api import sync_playwright

    snap = snapshot_path(db)
    results: dict[str, list[tuple[float, float, float]]] = {}
    server = None

    def record(name: str, step) -> None:
        record_step(results, name, server.pid, step)

    def record_pick(name: str, pick) -> None:
        """A pick twice: from the first keystroke in the box (typing the name included, as measured
        before), and from the choice itself (`pick` returns those seconds), with the step's CPU seconds."""
        chosen = []
        record(f"{name}, typing included", lambda: timed(lambda: chosen.append(pick())))
        results.setdefault(f"{name}, from the choice", []).append((chosen[0], *results[f"{name}, typing included"][-1][1:]))

    overview = "Are we getting faster and safer?"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        server, url = start_server(db, scopes)
        try:
            profile = browser.new_context(viewport={"width": 1280, "height": 800})
            # The first visit in a new browser; then, each time after a restart of the server on the same
            # port (as of `dora dashboard`), in the same browser: Streamlit's scripts (content-hashed,
            # served "immutable") come from its HTTP cache. At once, as the tab `dora dashboard` opens,
            # and a few seconds later, once the server has warmed up (dashboard/serve.py).
            for visitor, pause in (("new browser", 0), ("browser visited before", 0),
                                   (f"browser visited before, {ARRIVAL_S} s after the start", ARRIVAL_S)):
                if visitor != "new browser":
                    page.close()
                    server.terminate()
                    server.wait(timeout=30)
                    server, url = start_server(db, scopes, int(url.rsplit(":", 1)[1]))
                page = profile.new_page()
                page.wait_for_timeout(pause * 1000)
                record(f"overview, first visit after the server starts ({visitor})",
                       lambda: timed(lambda: (page.goto(url), wait_done(page, overview, 1))))
            if first_visit_only:
                return results  # the server stops below; leaving sync_playwright closes the browser
            for _ in range(repeat):
                invalidate_caches(snap)
                record("overview, first render (uncached data)",
                       lambda: timed(lambda: (page.reload(), wait_done(page, overview, 1))))
            record("overview, reload (cached data)", lambda: timed(lambda: (page.reload(), wait_done(page, overview, 1))))
            for _ in range(repeat):
                invalidate_caches(snap)
                page.reload()
                wait_done(page, overview, 1)
                for grain in ("Week", "Quarter", "Day", "Month"):
                    page.wait_for_timeout(THINK_MS)
                    record(f"filter change: grain {grain.lower()}",
                           lambda: page.evaluate(CLICK_AND_WAIT, [grain, f"Deployments per {grain.lower()}"]))
                # a team picked in the sidebar: the page prefetched every team's figures at its period
                # (data.prefetch_picks), not the team's comparison with its baseline
                page.wait_for_timeout(THINK_MS)
                record_pick("filter change: one team", lambda: pick_team(page, team))
                page.goto(url)
                wait_done(page, overview, 1)
                page.wait_for_timeout(THINK_MS)
                # one service, picked in the sidebar's multiselect: only every service's data span is prefetched
                record_pick("filter change: one service", lambda: pick_service(page, service))
                page.goto(url)
                wait_done(page, overview, 1)
            for path, heading, charts in PAGES:
                for name, query in (("organisation", ""), (f"team {team}", f"?team={team}")):
                    invalidate_caches(snap)
                    record(f"page /{path}, {name} (uncached data)", lambda: timed(
                        lambda: (page.goto(f"{url}/{path}{query}"), wait_page(page, heading, charts))))
            # the way a lead moves between pages: a click in the sidebar, no reload of the app
            for path, heading, charts in PAGES[1:]:
                page.goto(url)
                wait_done(page, overview, 1)
                page.wait_for_timeout(THINK_MS)
                invalidate_caches(snap)
                record(f"page /{path} from the sidebar, organisation (uncached data)", lambda: timed(
                    lambda: (open_from_sidebar(page, path), wait_page(page, heading, charts))))
            page.close()
        finally:
            server.terminate()
            server.wait(timeout=30)
        browser.close()
    return results


def measure_server(db: Path, service: str, scopes: str, team: str) -> dict[str, float]:
    """The data calls of the pages, uncached, on the snapshot (no browser, no Streamlit run)."""
    import streamlit as st

    from dashboard import data

    snap = data.find_snapshot(db)
    teams, _ = data.locate_scopes(["--teams", scopes])
    view = data.View(environment="production", teams=teams)
    one = view._replace(services=(service,))
    of_team = view._replace(team=team)
    status = data.load_status(snap)
    baselines = data.load_baselines(snap, None)
    current = (status.last_day.replace(day=1), status.last_day)
    calls = {
        "load_status (tables, range, services)": lambda: data.load_status(snap),
        "load_summary (organisation, month)": lambda: data.load_summary(snap, view),
        "load_summary (per service, month)": lambda: data.load_summary(snap, view, by_service=True),
        "load_levels (organisation, month)": lambda: data.load_levels(snap, view),
        "load_freshness": lambda: data.load_freshness(snap),
        "load_annotations": lambda: data.load_annotations(snap, view),
        "load_summary (one service, week)": lambda: data.load_summary(snap, one._replace(grain="week")),
        "load_incidents (organisation)": lambda: data.load_incidents(snap, view),
        "load_finding_counts (organisation)": lambda: data.load_finding_counts(snap, view),
        "load_finding_examples (organisation)": lambda: data.load_finding_examples(snap, view),
        "load_breakdown (organisation, month)": lambda: data.load_breakdown(snap, view),
        "load_batches (organisation, month)": lambda: data.load_batches(snap, view),
        "load_stage_spans (organisation)": lambda: data.load_stage_spans(snap, view),
        "load_baselines (organisation)": lambda: data.load_baselines(snap, None),
        "load_baseline_comparison (organisation, month against 'before')": lambda: data.load_baseline_comparison(
            snap, tuple(baselines["before"][1:]), current, None, "production"),
        "load_team_services (one team)": lambda: data.load_team_services(snap, of_team),
        "load_summary (one team, month)": lambda: data.load_summary(snap, of_team),
        "load_summary (per service of one team, month)": lambda: data.load_summary(snap, of_team, by_service=True),
        "load_incidents (one team)": lambda: data.load_incidents(snap, of_team),
    }
    out = {}
    for name, call in calls.items():
        if name != "load_status (tables, range, services)":
            data.load_status(snap)  # the others need it: keep it out of their time
        st.cache_data.clear() if name == "load_status (tables, range, services)" else None
        out[name] = timed(call)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.db.exists():
        raise SystemExit(f"no warehouse at {args.db}: build it with `.venv/bin/python bench/make_dataset.py`")
    ensure_annotations(args.db)
    snap = ensure_snapshot(args.db)
    shape = describe(snap)
    service = shape.pop("first service")
    scopes, team = bench_scopes(snap)
    print(f"data: {shape}; teams: {len(json.loads(scopes)['teams'])} of {TEAM_SIZE} services", file=sys.stderr)
    loads = [os.getloadavg()[0]]
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, load {loads[0]:.1f}", file=sys.stderr)
    server = {} if args.first_visit_only else measure_server(args.db, service, scopes, team)
    browser = measure_browser(args.db, args.repeat, service, scopes, team, args.first_visit_only)
    loads.append(os.getloadavg()[0])

    print("\n| step | seconds | CPU s: server | CPU s: browser |\n|---|---:|---:|---:|")
    for name, runs in browser.items():
        values = [r[0] for r in runs]
        shown = f"{statistics.median(values):.2f}" + (f" (median of {len(values)}, max {max(values):.2f})"
                                                      if len(values) > 1 else "")
        print(f"| {name} | {shown} | {statistics.median(r[1] for r in runs):.2f} | "
              f"{statistics.median(r[2] for r in runs):.2f} |")
    print("\n| data call (uncached, server side) | seconds |\n|---|---:|")
    for name, seconds in server.items():
        print(f"| {name} | {seconds:.3f} |")
    print(f"\nload average (1 min) at the start and the end: {loads[0]:.1f}, {loads[1]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
