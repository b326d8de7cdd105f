"""`dora dashboard`: serve the Streamlit dashboard on the warehouse's read snapshot."""
from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import click

from core.errors import DoraError, WarehouseError
from dora.cli.base import common_options
from dora.config import Config
from ingest.warehouse import open_warehouse, publish_snapshot, snapshot_path
from metrics.build import ensure_built
from metrics.goals import dump_scopes

# Streamlit's `run` command in a launcher of ours (dashboard/serve.py), which warms the server up before
# the first visit: the pages' imports and the snapshot's connection.
LAUNCHER = "dashboard.serve"

# The same settings as .streamlit/config.toml, as flags, so the command works from any directory:
# no usage statistics, no first-run e-mail prompt, the colour-blind-safe blue as the accent colour.
STREAMLIT_SETTINGS = {
    "browser.gatherUsageStats": "false",
    "server.showEmailPrompt": "false",
    "server.fileWatcherType": "none",
    "client.toolbarMode": "viewer",
    "theme.base": "light",
    "theme.primaryColor": "#0072B2",
    # Streamlit runs a full gc.collect() after every script run, holding the GIL while it walks the
    # server's heap (pandas, Plotly's validators, cached frames): 0.2 s of every rerun, a period
    # change or a reload, at 1M deployments (docs/performance.md, "Dashboard"). Python's own
    # generational collector still runs.
    "runner.postScriptGC": "false",
}


LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def build_streamlit_command(db_path: Path, *, port: int, host: str, open_browser: bool,
                            scopes: str | None = None) -> list[str]:
    """The command line serving the dashboard on `db_path`: `streamlit run dashboard/app.py`'s options,
    given to the launcher `python -m dashboard.serve`; `scopes`: the teams and goals of dora.toml as
    JSON (metrics.goals.dump_scopes), passed as `--teams` (the dashboard reads no config).

    The address people use is given (browser.serverAddress), so Streamlit never asks a web service
    for the machine's external IP address.
    """
    command = [sys.executable, "-m", LAUNCHER, "--server.port", str(port),
               "--server.address", host,
               "--browser.serverAddress", "localhost" if host in LOOPBACK else socket.gethostname()]
    for key, value in STREAMLIT_SETTINGS.items():
        command += [f"--{key}", value]
    if not open_browser:
        command += ["--server.headless", "true"]
    return command + ["--", "--db", str(db_path)] + (["--teams", scopes] if scopes else [])


def refresh_snapshot(config: Config) -> str | None:
    """Bring the metrics and the read snapshot up to date before serving, if the warehouse is free.

    Returns a note for the user when it could not (another process is writing: the dashboard then
    shows the last published snapshot and picks up the next one by itself).
    """
    if not config.db_path.exists():
        return None
    try:
        con = open_warehouse(config.db_path)
    except WarehouseError:
        return (f"{config.db_path} is being written by another process; showing its last published "
                "snapshot until that run commits")
    try:
        if ensure_built(con, config.metrics) or not snapshot_path(config.db_path).exists():
            publish_snapshot(con, config.db_path)
    finally:
        con.close()
    return None


def check_port(host: str, port: int) -> None:
    """Fail before anything is printed or started when the address is taken (another dashboard?)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Streamlit's server does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise DoraError(f"cannot serve on {host}:{port}: {exc.strerror or exc} (another dashboard? "
                            "choose another --port)") from exc


@click.command()
@click.option("--port", type=int, default=8501, show_default=True, help="Port to serve on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. Anything but localhost exposes the data: put authentication in "
                   "front first (docs/dashboard.md).")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open a browser tab (only where there is a display).")
@common_options
def dashboard(config: Config, quiet: bool, port: int, host: str, open_browser: bool) -> None:
    """Serve the dashboard for engineering leads on this warehouse (Ctrl-C stops it).

    It reads only the warehouse's read snapshot, so loads and `dora nightly` keep writing while it is
    open, and new data appears on the next page refresh without a restart. It binds to localhost
    unless told otherwise; docs/dashboard.md shows how to serve it to a team behind authentication.

    \b
    Examples:
      dora dashboard
      dora dashboard --db /var/lib/dora/dora.duckdb --port 8080 --no-open
    """
    check_port(host, port)
    if host not in LOOPBACK and not quiet:
        click.echo(f"warning: --host {host} makes the dashboard reachable from other machines on the network; "
                   "put authentication in front of it (docs/dashboard.md)", err=True)
    note = refresh_snapshot(config)
    if note and not quiet:
        click.echo(f"note: {note}", err=True)
    db_path = config.db_path.resolve()
    if not quiet:
        click.echo(f"Dashboard for {db_path} on http://{host}:{port} (Ctrl-C stops it)", err=True)
    scopes = dump_scopes(config.teams, config.goals) if config.teams or config.goals else None
    command = build_streamlit_command(db_path, port=port, host=host, open_browser=open_browser, scopes=scopes)
    sys.stdout.flush()
    sys.stderr.flush()
    # Streamlit becomes this process (the launcher runs its command line in-process): Ctrl-C and
    # service managers' signals reach it directly.
    os.execv(command[0], command)
