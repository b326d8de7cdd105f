"""`dora quality`: the data-quality report."""
from __future__ import annotations

import sys

import click

from core.text import escape_controls
from dora.cli.base import common_options, open_snapshot
from dora.cli.output import format_cell
from dora.config import Config
from metrics.export import write_csv
from metrics.quality import FINDINGS, list_findings, report_quality


@click.command()
@click.option("--finding", type=click.Choice(list(FINDINGS)), help="Only this finding.")
@click.option("--examples", type=int, default=3, show_default=True, help="Examples to show per finding.")
@click.option("--csv", "as_csv", is_flag=True, help="Write every finding row as CSV to stdout.")
@common_options
def quality(config: Config, quiet: bool, finding: str | None, examples: int, as_csv: bool) -> None:
    """The data-quality report: what the metrics left out or could not link, counted, with examples.

    Changes never deployed, deployments without changes, incidents without a service or never
    resolved, spans that are negative or missing, pipeline runs that never finished, rejected lines.

    \b
    Examples:
      dora quality
      dora quality --finding deployment_without_changes --examples 20
      dora quality --csv > findings.csv
    """
    con = open_snapshot(config)
    if as_csv:
        frame = list_findings(con)
        if finding:
            frame = frame[frame["finding"] == finding]
        write_csv(frame, sys.stdout)
        return
    frame = report_quality(con, examples=examples, finding=finding)
    if frame.empty:
        click.echo("No data-quality findings.")
        return
    for name, group in frame.groupby("finding", sort=False):
        total = int(group["findings"].iloc[0])
        click.echo(f"{name}: {total}  ({FINDINGS.get(name, '')})")
        for r in group.itertuples(index=False):
            where = " ".join(x for x in (r.service, r.environment) if isinstance(x, str))
            click.echo(escape_controls(f"  {r.entity_id}  {format_cell(r.occurred_at)}  {where + '  ' if where else ''}{r.detail}"))
        if total > len(group):
            click.echo(f"  … and {total - len(group)} more: dora quality --finding {name} --examples {total}")
