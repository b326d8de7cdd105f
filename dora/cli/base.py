"""What every `dora` command shares: the group class, exit codes, shared options and opening the warehouse.

Imports nothing else of dora.cli: each command module imports this one, and dora/cli/__init__.py
assembles them.
"""
from __future__ import annotations

import functools
import os
import sys
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import click
import duckdb

from core import db
from core.errors import DoraError, WarehouseError
from core.text import escape_controls, redact
from dora.config import Config, load_config
from dora.jobs import Interrupted, describe_interrupt, is_interrupt
from ingest.warehouse import open_warehouse, snapshot_path
from metrics.build import GRAINS, is_current
from metrics.filters import Filters
from metrics.registry import LEVEL_REPORTS as REPORTS

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_REJECTS = 3
EXIT_GOALS_MISSED = 4  # `dora check`: some goal was missed
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report Ctrl-C
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what `cmd | head` reports for tools the reader left early
CONFIG_KEY = "dora.config"  # where common_options keeps the command's Config (click context meta)

EXIT_CODES_HELP = """
\b
Exit codes:
  0  all good
  1  failed: nothing was written (the message says why)
  2  wrong usage (unknown option, bad value)
  3  loaded, but some records were rejected: see `dora rejects`
  4  dora check: a goal was missed
  130 interrupted (Ctrl-C): one line says what was kept
  141 the output's reader went away early (e.g. `| head`): nothing more said
"""


class DoraGroup(click.Group):
    """Turns every DoraError (and DuckDB's and the file system's errors) into one clear message and
    exit code 1, and Ctrl-C into one line saying what was kept and exit code 130. Every message is
    printed with secrets redacted and control characters escaped, whatever it quotes."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except click.ClickException as exc:
            exc.message = clean_message(exc.message)
            raise
        except Interrupted as exc:
            exit_interrupted(ctx, str(exc))
        except KeyboardInterrupt:
            exit_interrupted(ctx, describe_interrupt())
        except DoraError as exc:
            raise click.ClickException(clean_message(str(exc))) from exc
        except duckdb.Error as exc:
            raise click.ClickException(clean_message(f"database error: {exc}")) from exc
        except RuntimeError as exc:
            if not is_interrupt(exc):
                raise
            exit_interrupted(ctx, describe_interrupt())
        except BrokenPipeError:
            # the reader went away (`dora export | head`): stop quietly, as Unix tools do, and keep
            # Python from complaining again when it flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(EXIT_BROKEN_PIPE)
        except EOFError as exc:  # gzip's "ended before the end-of-stream marker": click would print "Aborted!"
            raise click.ClickException(clean_message(
                f"an input file ended early ({exc}): is a .gz file truncated? Nothing was written")) from exc
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(clean_message(f"{where}{exc.strerror or exc}")) from exc


def clean_message(text: str) -> str:
    """A message for the terminal: secrets redacted, control characters escaped (newlines kept)."""
    return "\n".join(escape_controls(line) for line in redact(text).split("\n"))


def exit_interrupted(ctx: click.Context, message: str) -> None:
    """Ctrl-C: one line on stderr saying what was kept, and exit code 130."""
    click.echo(message, err=True)
    ctx.exit(EXIT_INTERRUPTED)


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
        click.get_current_context().meta[CONFIG_KEY] = config  # make_filters takes the teams from it
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
        click.option("--team", help='Only this team of dora.toml ([[teams]]; "no team": services no team owns).'),
        click.option("--by", "by", type=click.Choice(["service", "team"]),
                     help="One row per service (with --team: of that team) or per team, and period."),
        click.option("--environment", default="production", show_default=True,
                     help="Environment (any configured production name means production)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_filters(grain, from_date, to_date, service, by, environment, team=None) -> Filters:
    """The values of filter_options as the export's Filters, with the teams of dora.toml; a reversed
    date range, or a service with a team, is a usage error."""
    if from_date and to_date and from_date > to_date:
        raise click.BadParameter(f"--from {from_date:%Y-%m-%d} is after --to {to_date:%Y-%m-%d}",
                                 param_hint="--from/--to")
    if service and (team or by == "team"):
        raise click.UsageError("--service and --team (or --by team) choose two scopes: give one of them")
    if team and by == "team":
        raise click.UsageError("--team NAME is one team; --by team lists every team: give one of them")
    config = click.get_current_context().meta.get(CONFIG_KEY)
    return Filters(
        team=team.strip() if team else None,
        by_team=by == "team",
        teams=config.teams if config else (),
        grain=grain,
        from_date=from_date.date() if from_date else None,
        to_date=to_date.date() if to_date else None,
        service=service,
        by_service=by == "service",
        environment=environment,
    )


def connect(config: Config) -> duckdb.DuckDBPyConnection:
    """Open the warehouse to write it (commands that load); it is closed when the command ends."""
    con = open_warehouse(config.db_path)
    click.get_current_context().call_on_close(con.close)
    set_memory_limit(con)
    return con


def set_memory_limit(con: duckdb.DuckDBPyConnection) -> None:
    """DORA_MEMORY_LIMIT, if set: DuckDB takes up to 80% of RAM by default; on a small or shared
    machine cap it: beyond the cap it spills to a temporary folder (slower), and the peak memory of a
    run stays near the cap."""
    limit = os.environ.get("DORA_MEMORY_LIMIT")
    if limit:
        try:
            con.execute("SET memory_limit = ?", [limit])
        except duckdb.Error as exc:
            raise DoraError(f"DORA_MEMORY_LIMIT={limit!r} is not a memory size, e.g. 1.5GB") from exc


def open_snapshot(config: Config, *, metrics: bool = True) -> duckdb.DuckDBPyConnection:
    """The warehouse's published read snapshot, read-only, for a command that only reads.

    Readers never take the warehouse's lock, so they never block a load and a load never blocks
    them; they write nothing, so they work on a read-only file system. The snapshot is what the
    last load committed. When the command reads `metrics`, a snapshot built with other metric
    settings than the current ones is refused with what to run: a reader never rebuilds. Closed
    when the command ends.
    """
    snap = snapshot_path(config.db_path)
    if not snap.exists():
        if config.db_path.exists():
            raise WarehouseError(f"{config.db_path} has no read snapshot yet: run `dora build` to publish one")
        raise WarehouseError(f"no warehouse at {config.db_path}: load data first, e.g. `dora ingest events FILE`")
    # Attached to an in-memory database rather than opened: DuckDB shares one instance per path in a
    # process, and a path reopened after a publish must be the new file (as dashboard/data.py does).
    con = db.connect(":memory:")
    ctx = click.get_current_context()
    ctx.call_on_close(con.close)
    try:
        con.execute("ATTACH ? AS snapshot (READ_ONLY)", [str(snap)])
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot read the snapshot {snap}: {exc}") from exc
    con.execute("USE snapshot")
    set_memory_limit(con)
    if metrics and not is_built(con, config):
        raise WarehouseError(
            f"the read snapshot of {config.db_path} is not built for the current metric settings "
            "(dora.toml changed, dora was upgraded, or a load stopped before its build): "
            "run `dora build`, then try again")
    if not ctx.params.get("quiet") and stderr_is_terminal():
        click.echo(describe_snapshot(snap), err=True)
    return con


def is_built(con: duckdb.DuckDBPyConnection, config: Config) -> bool:
    """True if the snapshot's facts and metrics were built with the current settings from all its data."""
    # The DORA report whose levels to show is a reader's choice (metric_levels holds every report's),
    # but the build's fingerprint records it: a build under another report is as current.
    try:
        return any(is_current(con, replace(config.metrics, levels_report=report)) for report in REPORTS)
    except duckdb.CatalogException:
        return False  # published before any build



def stderr_is_terminal() -> bool:
    """True when a person watches stderr: the snapshot's age is said there, not to scripts and cron."""
    return sys.stderr.isatty()


def describe_snapshot(snap: Path, now: datetime | None = None) -> str:
    """One line saying how fresh the read snapshot is: when it was published, and how long ago."""
    published = datetime.fromtimestamp(snap.stat().st_mtime, timezone.utc)
    minutes = int(((now or datetime.now(timezone.utc)) - published).total_seconds() // 60)
    age = (f"{minutes} min" if minutes < 120 else f"{minutes // 60} h" if minutes < 2880
           else f"{minutes // 1440} days")
    return f"data as of the last load, published {published:%Y-%m-%d %H:%M} UTC ({age} ago)"
