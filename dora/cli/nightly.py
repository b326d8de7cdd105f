"""`dora nightly`: every configured source, then the metrics: the job to schedule."""
from __future__ import annotations

import click

from core.errors import ConfigError
from dora.cli.base import common_options
from dora.cli.sources import Reporter, finish, read_token, run_options, source_options
from dora.config import Config
from dora.nightly import run_nightly
from ingest.warehouse import open_warehouse


@click.command()
@source_options
@common_options
def nightly(since, full_refresh: bool, fmt: str, config: Config, quiet: bool) -> None:
    """Read every configured source, then rebuild the metrics: the job to schedule.

    Sources: the event-log files under [eventlog] paths (globs allowed; lines already read are
    skipped, a rotated or truncated file is read again from the start and repeats are ignored) and
    the repositories under [[github.repositories]]. One summary line per source; a failed source
    does not stop the others. Exit codes: 0 all good, 1 a source failed (the rest were loaded and
    the metrics rebuilt), 3 some records were rejected. Scheduling: examples/ (cron, systemd,
    GitHub Actions).

    \b
    Examples:
      dora nightly
      dora nightly --quiet --config /etc/dora/dora.toml     # from cron: JSON lines
      dora nightly --since 2025-01-01                       # backfill GitHub from a date
    """
    options = run_options(since, full_refresh)
    if not config.eventlog_paths and not config.github.repositories:
        raise ConfigError("nothing to read: list event-log files under [eventlog] paths or repositories "
                          "under [[github.repositories]] in dora.toml (see dora.example.toml)")
    token = read_token() if config.github.repositories else None
    con = open_warehouse(config.db_path)
    try:
        result = run_nightly(con, config.db_path, eventlog_paths=config.eventlog_paths, github=config.github,
                             token=token, settings=config.metrics, options=options,
                             on_event=Reporter(fmt, quiet), bounds=config.eventlog_bounds)
    finally:
        con.close()
    finish(result)
