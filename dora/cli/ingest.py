"""`dora ingest events|github|survey`: load one source into the warehouse."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from core.errors import DoraError
from dora.cli.base import EXIT_REJECTS, common_options, connect
from dora.cli.output import echo_reject_samples, report_counts
from dora.cli.progress import RunProgress, show_progress
from dora.cli.sources import Reporter, choose_repositories, finish, read_token, run_options, source_options
from dora.config import Config
from dora.jobs import run_eventlog_ingest
from dora.jobs_context import run_survey_ingest
from dora.nightly import run_nightly
from ingest import eventlog
from ingest.warehouse import open_warehouse


@click.group()
def ingest() -> None:
    """Load data into the warehouse (each source is one subcommand)."""


@ingest.command("events")
@click.argument("files", nargs=-1, required=True)
@common_options
def ingest_events(files: tuple[str, ...], config: Config, quiet: bool) -> None:
    """Load CDEvents JSON Lines files (`-` or /dev/stdin for stdin, or a pipe such as <(cmd); `.gz`
    files are read as gzip). A file with no lines is reported, not an error.

    The run is one transaction: it lands whole or not at all. Re-loading a file changes nothing.
    Bad lines are rejected with file, line number, raw text and reason; valid lines still load.

    \b
    Examples:
      dora ingest events data/sample/events.jsonl
      cat deploys.jsonl | dora ingest events - --db /var/lib/dora/dora.duckdb
    """
    for f in files:
        # a pipe such as <(zcat log.gz) (/dev/fd/63) or /dev/stdin is read as a stream, like `-`
        if f != "-" and not (Path(f).is_file() or Path(f).is_fifo() or Path(f).is_char_device()):
            raise click.BadParameter(f"{f} is not a file", param_hint="FILES")
    con = connect(config)
    notices: list[str] = []
    with RunProgress(known_size(files), enabled=show_progress(quiet)) as progress:
        run = run_eventlog_ingest(con, config.db_path, list(files), config.metrics, progress.on_bytes,
                                  chunk_bytes_from_env(), bounds=config.eventlog_bounds,
                                  on_notice=notices.append, on_loaded=progress.on_load_done,
                                  on_model=progress.on_model, on_publish=progress.on_publish)
    if not quiet:
        for notice in notices:
            click.echo(notice, err=True)
    report_run(run, quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)


def known_size(files: tuple[str, ...]) -> int | None:
    """The bytes the load will read, when known ahead: None when any input is a stream (stdin, a
    pipe) or compressed (its size on disk is not what is read), so progress shows bytes read alone."""
    if any(f == "-" or f.endswith(".gz") or not Path(f).is_file() for f in files):
        return None
    return sum(os.path.getsize(f) for f in files)


def chunk_bytes_from_env() -> int:
    """DORA_CHUNK_BYTES: how much of a log is parsed per bulk statement (memory vs. speed)."""
    value = os.environ.get("DORA_CHUNK_BYTES", "")
    if not value:
        return eventlog.CHUNK_BYTES
    if not value.isdigit() or int(value) < 1024:
        raise DoraError("DORA_CHUNK_BYTES must be a whole number of bytes, at least 1024")
    return int(value)


def report_run(run, quiet: bool) -> None:
    """The end-of-run summary of an event-log load on stderr: one line, plus the first rejected lines."""
    c = run.counts
    if not quiet or c.rejected:
        click.echo(
            f"run {run.run_id}: {c.records} records read, {c.loaded} new events loaded, "
            f"{c.duplicates} duplicates ignored, {c.unknown_types} of unknown types kept raw, "
            f"{c.rejected} rejected",
            err=True,
        )
    echo_reject_samples(c, run.run_id)


@ingest.command("survey")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--scale", help="The scale when the file has no scale column, e.g. 1-5.")
@common_options
def ingest_survey(config: Config, quiet: bool, file: str, scale: str | None) -> None:
    """Load developer-satisfaction survey responses from a CSV file.

    Columns: date (YYYY-MM-DD), team (or service), respondent (any id), score, scale (LOW-HIGH,
    e.g. 1-5). Bad rows (dates, scores outside the scale, missing fields) are rejected with their
    line and reason; valid rows still load. One answer per date, team and respondent: loading the
    same file again changes nothing, and a later file repeating one replaces its score.

    \b
    Examples:
      dora ingest survey data/sample/survey.csv
      dora ingest survey pulse-2026-03.csv --scale 0-10
    """
    con = open_warehouse(config.db_path)
    run = run_survey_ingest(con, config.db_path, file, config.metrics, scale)
    report_counts(run, "responses", quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)


@ingest.command("github")
@click.argument("repositories", nargs=-1)
@source_options
@common_options
def ingest_github(repositories: tuple[str, ...], since, full_refresh: bool, fmt: str, config: Config,
                  quiet: bool) -> None:
    """Load merged PRs, deployments and incidents from GitHub (token: $GITHUB_TOKEN or $GH_TOKEN).

    Reads the repositories under [[github.repositories]] in dora.toml (or those named), each
    incrementally: only what changed since the last run, plus a look-back window. A repository that
    fails is reported and the others still load; then the metrics are rebuilt. Exit codes: 0 all
    good, 1 a repository failed (the others were loaded), 3 some payloads were rejected.

    \b
    Examples:
      GITHUB_TOKEN=ghp_… dora ingest github
      dora ingest github acme/payments --since 2025-01-01
      dora ingest github --full-refresh --quiet
    """
    options = run_options(since, full_refresh)
    github = choose_repositories(config, repositories)
    token = read_token()
    con = open_warehouse(config.db_path)
    try:
        result = run_nightly(con, config.db_path, eventlog_paths=[], github=github, token=token,
                             settings=config.metrics, options=options, on_event=Reporter(fmt, quiet))
    finally:
        con.close()
    finish(result)
