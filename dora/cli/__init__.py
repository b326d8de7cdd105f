"""The `dora` command: a thin click layer over the ingest, metrics and export libraries.

This module only assembles it: the group and what every command shares are in dora/cli/base.py,
each command (or group of subcommands) in the module named after it. Exit codes (also in
`dora --help`): 0 all good; 1 failed, nothing written; 2 wrong usage; 3 loaded, but some records
were rejected (they are kept in the `rejects` table with the reason); 4 `dora check`: a goal was
missed; 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import sys

import click

from dora.cli.annotate import annotate
from dora.cli.base import EXIT_CODES_HELP, EXIT_INTERRUPTED, DoraGroup
from dora.cli.build import build
from dora.cli.check import check
from dora.cli.compare import compare_command
from dora.cli.dashboard import dashboard
from dora.cli.explain import explain
from dora.cli.export import export
from dora.cli.ingest import ingest
from dora.cli.levels import levels
from dora.cli.metrics import metrics
from dora.cli.nightly import nightly
from dora.cli.quality import quality
from dora.cli.rejects import rejects
from dora.cli.report import report
from dora.cli.story import story_command
from dora.cli.survey import survey
from dora.jobs import describe_interrupt


@click.group(cls=DoraGroup, epilog=EXIT_CODES_HELP,
             commands=[ingest, metrics, export, rejects, explain, quality, dashboard, annotate, survey,
                       compare_command, story_command, levels, nightly, build, report, check])
@click.version_option(package_name="dora-pipeline")
def main() -> None:
    """DORA metrics from your CD event log and GitHub, in one DuckDB file.

    \b
    Examples:
      dora ingest events deploys.jsonl          # load a CDEvents log
      dora metrics --grain week --by service    # the metrics as a table
      dora export --grain quarter -o q.csv      # the quarterly-review CSV
    """


def run() -> None:
    """Entry point that keeps Python's traceback out of users' terminals on Ctrl-C."""
    try:
        main()
    except KeyboardInterrupt:  # before or after a command ran (inside one, DoraGroup answers)
        click.echo(describe_interrupt(), err=True)
        sys.exit(EXIT_INTERRUPTED)
