"""`dora levels`: each metric per period as elite, high, medium or low, with its Quick Check score."""
from __future__ import annotations

import sys

import click

from dora.cli.base import common_options, filter_options, make_filters, open_snapshot
from dora.cli.output import format_rows, is_missing
from dora.config import Config
from metrics.build import DEFINITIONS_VERSION
from metrics.export import write_csv
from metrics.levels import REPORTS, query_levels
from metrics.registry import get_metric


@click.command()
@filter_options
@click.option("--report", type=click.Choice(REPORTS),
              help="The DORA report whose levels to use (default: [levels] report in dora.toml, else 2024).")
@click.option("--csv", "as_csv", is_flag=True, help="Write every row and column as CSV to stdout.")
@common_options
def levels(config: Config, quiet: bool, report: str | None, as_csv: bool, **filters) -> None:
    """Classify each metric per period as elite, high, medium or low, and score it 0-10.

    Each metric is placed on its own against the chosen DORA report's table (2024's "high" change
    fail rate is worse than "medium"'s: a team is never placed by another metric). The score is
    DORA's Quick Check scale (0-10), shown with its 2025 all-industries mean. A team's levels
    (--team, --by team) come from its own figures: its services' facts together.

    \b
    Examples:
      dora levels --grain quarter
      dora levels --grain month --by service --report 2023
      dora levels --grain quarter --by team
      dora levels --grain quarter --csv > levels.csv
    """
    con = open_snapshot(config)
    report = report or config.metrics.levels_report
    frame = query_levels(con, make_filters(**filters), config.metrics, report)
    if as_csv:
        frame["definitions_version"] = DEFINITIONS_VERSION
        write_csv(frame, sys.stdout)
        return
    if frame.empty:
        click.echo("No periods with data for these filters.")
        return
    wide = {}
    teams = "team" in frame.columns
    for r in frame.itertuples():
        cell = "–" if is_missing(r.quickcheck_score) else f"{r.level if isinstance(r.level, str) else '·'} {r.quickcheck_score:.1f}"
        scope = r.team if teams else r.service  # team rows (--team, --by team): the team
        wide.setdefault((r.period_start, scope), {})[r.metric] = cell
    metrics = list(dict.fromkeys(frame["metric"]))  # in the order the levels model lists them
    headers = {m: get_metric(m).terminal_header for m in metrics}
    rows = [[f"{period:%Y-%m-%d}", service] + [cells.get(m, "–") for m in metrics]
            for (period, service), cells in wide.items()]
    click.echo(format_rows(["period", "team" if teams else "service"] + list(headers.values()), rows))
    benchmarks = frame.drop_duplicates("metric").set_index("metric")["benchmark_2025_score"]
    click.echo(f"\nLevels: DORA {report} report, each metric on its own (rework rate has no levels). "
               "Score: 0-10 as DORA's Quick Check;\n2025 all-industries means: "
               + ", ".join(f"{headers[m]} {benchmarks[m]:.1f}" for m in metrics if m in benchmarks) + ".")
