"""`dora rejects`: the records a load rejected, with why."""
from __future__ import annotations

import click

from core.sql import run_sql
from core.text import escape_controls
from dora.cli.base import common_options, open_snapshot
from dora.config import Config


@click.command()
@click.option("--run", "run_id", type=int, help="Only this ingest run.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many to show.")
@common_options
def rejects(config: Config, quiet: bool, run_id: int | None, limit: int) -> None:
    """List rejected records with their file, line, reason and raw text (control characters escaped).

    \b
    Examples:
      dora rejects
      dora rejects --run 12 --limit 200
    """
    con = open_snapshot(config, metrics=False)
    rows = run_sql(con, "dora", "list_rejects", {"run_id": run_id, "limit": limit}).fetchall()
    if not rows:
        click.echo("No rejected records.")
    for run, origin, file, line_no, reason, raw in rows:
        where = f"{file}:{line_no}" if line_no is not None else file  # GitHub payloads have no line
        click.echo(escape_controls(f"run {run} {origin} {where}: {reason}") + "\n    " + escape_controls(raw[:200]))
