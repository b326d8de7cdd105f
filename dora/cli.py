"""The `dora` command: a thin click layer over the ingest, metrics and export libraries.

Exit codes (also in `dora --help`): 0 all good; 1 failed, nothing written; 2 wrong usage;
3 loaded, but some records were rejected (they are kept in the `rejects` table with the reason).
"""
from __future__ import annotations

import functools
import os
import sys
from datetime import date
from pathlib import Path
from typing import Callable

import click
import duckdb

from dora.config import Config, load_config
from core.errors import DoraError
from dora.jobs import run_eventlog_ingest
from ingest import eventlog
from ingest.warehouse import open_warehouse, publish_snapshot
from metrics.build import ensure_built
from metrics.export import GRAINS, TABLES, Filters, query_summary, query_table, write_csv

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTS = 3

EXIT_CODES_HELP = """
\b
Exit codes:
  0  all good
  1  failed: nothing was written (the message says why)
  2  wrong usage (unknown option, bad value)
  3  loaded, but some records were rejected: see `dora rejects`
"""


class DoraGroup(click.Group):
    """Turns every DoraError (and DuckDB's own errors) into one clear message and exit code 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except DoraError as exc:
            raise click.ClickException(str(exc)) from exc
        except duckdb.Error as exc:
            raise click.ClickException(f"database error: {exc}") from exc


def common_options(func: Callable) -> Callable:
    """--db, --config and --quiet, shared by every command that touches the warehouse."""

    @click.option("--db", "db_path", type=click.Path(dir_okay=False),
                  help="DuckDB file (default: $DORA_DB, else [warehouse] path in dora.toml, else data/dora.duckdb).")
    @click.option("--config", "config_path", type=click.Path(dir_okay=False),
                  help="Config file (default: $DORA_CONFIG, else ./dora.toml if present).")
    @click.option("-q", "--quiet", is_flag=True, help="Print only errors and rejects (for cron).")
    @functools.wraps(func)
    def wrapper(*args, db_path, config_path, quiet, **kwargs):
        config = load_config(config_path, db_path)
        return func(*args, config=config, quiet=quiet, **kwargs)

    return wrapper


def filter_options(func: Callable) -> Callable:
    """The filters `dora metrics` and `dora export` share."""
    options = [
        click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True,
                     help="Period length; weeks are ISO weeks starting Monday."),
        click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]),
                     help="First day to include (its period is included whole)."),
        click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include."),
        click.option("--service", help="Only this service."),
        click.option("--by", "by", type=click.Choice(["service"]), help="One row per service and period."),
        click.option("--environment", default="production", show_default=True,
                     help="Environment (any configured production name means production)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(grain, from_date, to_date, service, by, environment) -> Filters:
    return Filters(
        grain=grain,
        from_date=from_date.date() if from_date else None,
        to_date=to_date.date() if to_date else None,
        service=service,
        by_service=by == "service",
        environment=environment,
    )


def connect(config: Config, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse for this command; it is closed when the command ends."""
    con = open_warehouse(config.db_path, read_only=read_only)
    click.get_current_context().call_on_close(con.close)
    limit = os.environ.get("DORA_MEMORY_LIMIT")
    if limit:
        # DuckDB takes up to 80% of RAM by default; on a small or shared machine cap it: beyond the
        # cap it spills to <db>.tmp (slower), and the peak memory of a run stays near the cap
        try:
            con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise DoraError(f"DORA_MEMORY_LIMIT={limit!r} is not a memory size, e.g. 1.5GB") from exc
    return con


def open_current(config: Config) -> duckdb.DuckDBPyConnection:
    """The warehouse with facts and metrics up to date for the current settings."""
    if not config.db_path.exists():
        raise DoraError(f"no warehouse at {config.db_path}: load data first, e.g. `dora ingest events FILE`")
    con = connect(config)
    if ensure_built(con, config.metrics):
        publish_snapshot(con, config.db_path)
    return con


@click.group(cls=DoraGroup, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="dora-pipeline")
def main() -> None:
    """DORA metrics from your CD event log and GitHub, in one DuckDB file.

    \b
    Examples:
      dora ingest events deploys.jsonl          # load a CDEvents log
      dora metrics --grain week --by service    # the metrics as a table
      dora export --grain quarter -o q.csv      # the quarterly-review CSV
    """


@main.group()
def ingest() -> None:
    """Load data into the warehouse (each source is one subcommand)."""


@ingest.command("events")
@click.argument("files", nargs=-1, required=True)
@common_options
def ingest_events(files: tuple[str, ...], config: Config, quiet: bool) -> None:
    """Load CDEvents JSON Lines files (`-` for stdin; `.gz` files are read as gzip).

    The run is one transaction: it lands whole or not at all. Re-loading a file changes nothing.
    Bad lines are rejected with file, line number, raw text and reason; valid lines still load.

    \b
    Examples:
      dora ingest events data/sample/events.jsonl
      cat deploys.jsonl | dora ingest events - --db /var/lib/dora/dora.duckdb
    """
    for f in files:
        if f != "-" and not Path(f).is_file():
            raise click.BadParameter(f"{f} is not a file", param_hint="FILES")
    total = sum(os.path.getsize(f) for f in files if f != "-" and not f.endswith(".gz"))
    con = connect(config)
    show_bar = not quiet and sys.stderr.isatty() and total > 0
    with click.progressbar(length=total, label="Loading", file=sys.stderr,
                           hidden=not show_bar) as bar:
        run = run_eventlog_ingest(con, config.db_path, list(files), config.metrics, on_progress=bar.update,
                                  chunk_bytes=chunk_bytes_from_env())
    report_run(run, quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)


def chunk_bytes_from_env() -> int:
    """DORA_CHUNK_BYTES: how much of a log is parsed per bulk statement (memory vs. speed)."""
    value = os.environ.get("DORA_CHUNK_BYTES", "")
    if not value:
        return eventlog.CHUNK_BYTES
    if not value.isdigit() or int(value) < 1024:
        raise DoraError("DORA_CHUNK_BYTES must be a whole number of bytes, at least 1024")
    return int(value)


def report_run(run, quiet: bool) -> None:
    """The end-of-run summary on stderr: one line, plus the first rejected lines if any."""
    c = run.counts
    if not quiet or c.rejected:
        click.echo(
            f"run {run.run_id}: {c.records} records read, {c.loaded} new events loaded, "
            f"{c.duplicates} duplicates ignored, {c.unknown_types} of unknown types kept raw, "
            f"{c.rejected} rejected",
            err=True,
        )
    for file, line_no, reason in c.reject_samples[:10]:
        click.echo(f"  rejected {file}:{line_no}: {reason}", err=True)
    if c.rejected > 10:
        click.echo(f"  … and {c.rejected - 10} more: `dora rejects --run {run.run_id}`", err=True)


@main.command()
@filter_options
@common_options
def metrics(config: Config, quiet: bool, **filters) -> None:
    """Print the DORA metrics as a table, one row per period (and service).

    \b
    Examples:
      dora metrics
      dora metrics --grain week --from 2026-01-01 --by service
    """
    con = open_current(config)
    frame = query_summary(con, make_filters(**filters), config.metrics)
    if frame.empty:
        click.echo("No production deployments, changes or incidents yet for these filters.")
        return
    click.echo(format_table(frame))


def format_table(frame) -> str:
    """The summary as a fixed-width table with readable headers and units."""
    columns = {
        "period_start": ("period", "{:%Y-%m-%d}"),
        "service": ("service", "{}"),
        "deployments": ("deploys", "{:d}"),
        "deploys_per_day": ("per day", "{:.2f}"),
        "lead_time_median_hours": ("lead time h (median)", "{:.1f}"),
        "change_failure_rate": ("fail rate", "{:.1%}"),
        "failed_deployments": ("failed", "{:d}"),
        "failed_deployment_recovery_median_minutes": ("deploy recovery min", "{:.1f}"),
        "incident_recovery_median_minutes": ("incident recovery min", "{:.1f}"),
        "rework_rate": ("rework", "{:.1%}"),
    }
    rows = [[title for title, _ in columns.values()]]
    for record in frame[list(columns)].itertuples(index=False):
        rows.append([
            "–" if value is None or value != value else fmt.format(value)
            for value, (_, fmt) in zip(record, columns.values())
        ])
    widths = [max(len(r[i]) for r in rows) for i in range(len(columns))]
    lines = ["  ".join(cell.rjust(w) if i > 1 else cell.ljust(w) for i, (cell, w) in enumerate(zip(r, widths)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@main.command()
@filter_options
@click.option("--table", default="summary", show_default=True,
              help="What to export: " + ", ".join(TABLES) + ".")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True),
              help="Write the CSV here (default: stdout).")
@common_options
def export(config: Config, quiet: bool, table: str, output: str | None, **filters) -> None:
    """Write the metrics as CSV for quarterly reviews (columns: docs/export.md).

    \b
    Examples:
      dora export --grain quarter -o dora-2026Q3.csv
      dora export --grain month --by service --from 2026-01-01 --to 2026-06-30
    """
    con = open_current(config)
    frame = query_table(con, table, make_filters(**filters), config.metrics)
    if output:
        with open(output, "w", encoding="utf-8", newline="") as fh:
            write_csv(frame, fh)
        if not quiet:
            click.echo(f"wrote {len(frame)} rows to {output}", err=True)
    else:
        write_csv(frame, sys.stdout)


@main.command()
@click.option("--run", "run_id", type=int, help="Only this ingest run.")
@click.option("--limit", type=int, default=50, show_default=True, help="How many to show.")
@common_options
def rejects(config: Config, quiet: bool, run_id: int | None, limit: int) -> None:
    """List rejected records with their file, line, reason and raw text.

    \b
    Examples:
      dora rejects
      dora rejects --run 12 --limit 200
    """
    con = connect(config, read_only=True)
    rows = con.execute(
        """
        SELECT ingest_run_id, origin, file, line_no, reason, raw FROM rejects
        WHERE ? IS NULL OR ingest_run_id = ?
        ORDER BY ingest_run_id DESC, file, line_no LIMIT ?
        """,
        [run_id, run_id, limit],
    ).fetchall()
    if not rows:
        click.echo("No rejected records.")
    for run, origin, file, line_no, reason, raw in rows:
        where = f"{file}:{line_no}" if line_no is not None else file  # GitHub payloads have no line
        click.echo(f"run {run} {origin} {where}: {reason}\n    {raw[:200]}")


def run() -> None:
    """Entry point that keeps Python's traceback out of users' terminals on Ctrl-C."""
    try:
        main()
    except KeyboardInterrupt:
        click.echo("interrupted: nothing from the unfinished run was written", err=True)
        sys.exit(130)
from dora import cli_insights  # noqa: E402,F401  (registers its commands)
from dora import cli_dashboard  # noqa: E402,F401  (registers its commands)
from dora import cli_compare  # noqa: E402,F401  (registers its commands)
from dora import cli_github  # noqa: E402,F401  (registers its commands)
