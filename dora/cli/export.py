"""`dora export`: the metrics as CSV."""
from __future__ import annotations

import click

from dora.cli.base import common_options, filter_options, make_filters, open_snapshot
from dora.cli.output import write_output
from dora.config import Config
from metrics.export import TABLES, describe_empty_scope, environment_group, query_table, write_csv


@click.command()
@filter_options
@click.option("--table", default="summary", show_default=True, type=click.Choice(list(TABLES)),
              help="What to export.")
@click.option("-o", "--output", help="Write the CSV here, whole or not at all (default, or `-`: stdout).")
@common_options
def export(config: Config, quiet: bool, table: str, output: str | None, **filters) -> None:
    """Write the metrics as CSV for quarterly reviews (columns: docs/export.md).

    The summary has a row for every period of the days the data covers. With no rows for the filters
    (nothing loaded yet, an environment without data) it writes the header row only, says why on
    stderr (even with --quiet: an empty file must not pass unnoticed) and exits 0.

    \b
    Examples:
      dora export --grain quarter -o dora-2026Q3.csv
      dora export --grain month --by service --from 2026-01-01 --to 2026-06-30
      dora export --table before-after --by team
    """
    con = open_snapshot(config)
    frame = query_table(con, table, make_filters(**filters), config.metrics)
    write_output(output, lambda out: write_csv(frame, out), db_path=config.db_path)
    if output == "-":
        output = None
    if frame.empty:
        reason = describe_empty_scope(con, environment_group(filters["environment"], config.metrics))
        click.echo(f"{reason} Wrote the header row only{f' to {output}' if output else ''}.", err=True)
    elif output and not quiet:
        click.echo(f"wrote {len(frame)} rows to {output}", err=True)
