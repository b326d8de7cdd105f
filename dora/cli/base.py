"""What every `dora` command shares: the group class, exit codes, shared options and opening the warehouse.

Imports nothing else of dora.cli: each command module imports this one, and dora/cli/__init__.py
assembles them.
"""
from __future__ import annotations

import functools
import os
from typing import Callable

import click
import duckdb

from core.errors import DoraError
from dora.config import Config, load_config
from ingest.warehouse import open_warehouse, publish_snapshot
from metrics.build import ensure_built
from metrics.export import GRAINS, Filters

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
    """The filters `dora metrics`, `dora export` and `dora levels` share."""
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
    """The values of filter_options as the export's Filters."""
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
