"""The `dora` command: a thin click layer over the ingest, metrics and export libraries.

This module only assembles it: the group and what every command shares are in dora/cli/base.py,
each command (or group of subcommands) in the module named after it. Exit codes (also in
`dora --help`): 0 all good; 1 failed, nothing written; 2 wrong usage; 3 loaded, but some records
were rejected (they are kept in the `rejects` table with the reason); 4 `dora check`: a goal was
missed; 130 interrupted (Ctrl-C).
"""
from __future__ import annotations

import importlib
import sys

import click

from dora.cli.base import EXIT_CODES_HELP, EXIT_INTERRUPTED, DoraGroup
from dora.jobs import describe_interrupt

# Each command's module, imported when the command runs (or `dora --help` lists them): a command
# pays only for the libraries it uses — `dora nightly` from cron never imports pandas or Plotly,
# which every command did when this module imported them all (docs/performance.md, "Read snapshot").
COMMANDS = {
    "ingest": "dora.cli.ingest:ingest", "metrics": "dora.cli.metrics:metrics", "export": "dora.cli.export:export",
    "rejects": "dora.cli.rejects:rejects", "explain": "dora.cli.explain:explain",
    "quality": "dora.cli.quality:quality", "dashboard": "dora.cli.dashboard:dashboard",
    "annotate": "dora.cli.annotate:annotate", "survey": "dora.cli.survey:survey",
    "compare": "dora.cli.compare:compare_command", "story": "dora.cli.story:story_command",
    "levels": "dora.cli.levels:levels", "nightly": "dora.cli.nightly:nightly", "build": "dora.cli.build:build",
    "report": "dora.cli.report:report", "check": "dora.cli.check:check",
}


class LazyGroup(DoraGroup):
    """The `dora` group, importing a command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attribute = COMMANDS[name].split(":")
        return getattr(importlib.import_module(module), attribute)


@click.group(cls=LazyGroup, epilog=EXIT_CODES_HELP)
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
