"""Serve the dashboard with a warm server: `python -m dashboard.serve [streamlit run options] -- --db PATH`.

`dora dashboard` runs this instead of `streamlit run dashboard/app.py`. It is Streamlit's own command
line, run in this process (`streamlit.web.cli.main`, what `python -m streamlit` calls), so Streamlit
owns the main thread and its signal handlers: Ctrl-C and a service manager's SIGTERM reach it directly.
Beside it, once the server is about to answer, a background thread does what the first visitor would
otherwise wait for: it imports what the pages import (pandas, Plotly, SciPy's statistics, the metrics
modules: about 1.5 s of CPU), draws a small figure, opens the read snapshot through
`dashboard.data`'s shared read-only connection, and reads what the Overview shows first through its
cached loaders (warm_overview), so the first visitor finds it read. A warm-up that fails costs one
line on stderr, never the server.
"""
from __future__ import annotations

import ast
import importlib
import sys
import threading
import time
from pathlib import Path
from typing import Sequence

APP = Path(__file__).resolve().parent / "app.py"
VIEWS = Path(__file__).resolve().parent / "views"
SERVER_WAIT_SECONDS = 60.0


def split_app_args(argv: Sequence[str]) -> list[str]:
    """The app's own arguments: those after the first `--` (as `streamlit run` passes them on)."""
    argv = list(argv)
    return argv[argv.index("--") + 1:] if "--" in argv else []


def find_page_imports(scripts: Sequence[Path]) -> list[str]:
    """The modules `scripts` import at their top level, read from their source, so the list of what
    to warm cannot fall behind the pages; `from package import name` counts `package.name` as well,
    as `name` may be a module."""
    names: list[str] = []
    for script in scripts:
        for node in ast.parse(script.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.Import):
                names += [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names += [f"{node.module}.{alias.name}" for alias in node.names]
    return list(dict.fromkeys(name for name in names if name != "__future__"))


def import_quietly(name: str) -> None:
    """Import `name`; a `package.attribute` that is not a module is no error (its package is imported)."""
    try:
        importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise


def draw_sample_figure() -> None:
    """A figure of a small DataFrame serialised as st.plotly_chart does, and the frame converted to
    Arrow as st.dataframe does: the modules those import on first use (Plotly's narwhals conversion
    of pandas columns, pyarrow's pandas support) would otherwise load during the first page."""
    import pandas as pd
    import plotly.graph_objects as go
    import plotly.io
    import pyarrow

    frame = pd.DataFrame({"period_start": pd.to_datetime(["2026-01-01", "2026-02-01"]), "value": [1.0, 2.5],
                          "service": ["a", "b"]})
    figure = go.Figure(go.Scatter(x=frame["period_start"], y=frame["value"], text=frame["service"]))
    figure.add_trace(go.Bar(x=frame["period_start"], y=frame["value"]))
    plotly.io.to_json(figure, validate=False)
    pyarrow.Table.from_pandas(frame)


def warm_up(app_args: Sequence[str]) -> None:
    """Import the pages' modules, draw a sample figure, open the snapshot the app will read
    (read-only, through the app's own shared connection) and read the Overview's first view."""
    for name in find_page_imports([APP, *sorted(VIEWS.glob("*.py"))]):
        import_quietly(name)
    draw_sample_figure()
    from dashboard import data

    snap = data.find_snapshot(data.locate_warehouse(app_args))
    if snap is None:  # nothing published yet: the Overview says what to run
        return
    with data.read_snapshot(snap) as con:
        # The catalogue every page's first query needs (data.load_status lists the tables).
        con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    warm_overview(snap, app_args)


def warm_overview(snap, app_args: Sequence[str]) -> None:
    """Read what the Overview shows first — the organisation by month over every day, in the first
    environment, its cards compared with the first baseline window — through the page's own cached
    loaders and the same arguments, so its first visitor finds them read (the runtime exists by now:
    the loaders fill the server's caches, as data.prefetch_grains does from its thread). A visitor
    arriving meanwhile waits only for what is still being read (one computation per cache key)."""
    from dashboard import cards, data

    status = data.load_status(snap)
    if not status.has_metrics:
        return
    teams, _ = data.locate_scopes(app_args)
    view = data.default_view(status, teams)
    summary = data.load_summary(snap, view)
    data.load_levels(snap, view)
    data.load_annotations(snap, view)
    data.load_freshness(snap)
    windows = data.load_baselines(snap, data.compare_scope(snap, view))  # the page's default: the first
    if windows:
        cards.load_card_comparison(snap, view, summary[summary["service"] == "all"], "all",
                                   next(iter(windows.values())), status.last_day)


def wait_for_server(timeout: float = SERVER_WAIT_SECONDS) -> bool:
    """Wait until Streamlit's runtime has started, just before its server answers: warming earlier
    would hold the interpreter while the server starts, and st.cache_data decorators run before the
    runtime exists (at the import of dashboard.data) log a warning each."""
    from streamlit import runtime

    deadline = time.monotonic() + timeout
    while not (runtime.exists() and runtime.get_instance().state != runtime.RuntimeState.INITIAL):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def run_warm_up(app_args: Sequence[str]) -> None:
    """The warm-up thread's body: any failure is one line on stderr, and the server serves on."""
    try:
        if wait_for_server():
            warm_up(app_args)
    except Exception as exc:  # noqa: BLE001 - warming is an optimisation; the first visit redoes it
        print(f"dashboard warm-up skipped: {type(exc).__name__}: {exc}".replace("\n", " "), file=sys.stderr,
              flush=True)


def main(argv: Sequence[str] | None = None) -> None:
    """Start the warm-up thread, then run `streamlit run dashboard/app.py ARGV` in this process."""
    argv = list(sys.argv[1:] if argv is None else argv)
    threading.Thread(target=run_warm_up, args=(split_app_args(argv),), name="dora-warm-up", daemon=True).start()
    from streamlit.web import cli

    # prog_name as `python -m streamlit` sets it: Streamlit checks its own command line by that name.
    cli.main(args=["run", str(APP), *argv], prog_name="streamlit")


if __name__ == "__main__":
    main()
