"""`dora survey`: developer satisfaction per period."""
from __future__ import annotations

import sys
from datetime import datetime

import click

from dora.cli.base import common_options, open_snapshot
from dora.cli.output import format_rows, is_missing
from dora.config import Config
from metrics.build import DEFINITIONS_VERSION
from metrics.export import GRAINS, Filters, write_csv
from metrics.survey import query_survey


@click.command()
@click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True, help="Period length.")
@click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), help="First day to include.")
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last day to include.")
@click.option("--team", help="Only this team.")
@click.option("--by-team", is_flag=True, help="One row per team and period.")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout.")
@common_options
def survey(config: Config, quiet: bool, grain: str, from_date: datetime | None, to_date: datetime | None,
           team: str | None, by_team: bool, as_csv: bool) -> None:
    """Print developer satisfaction per period: responses, mean, spread and median.

    \b
    Examples:
      dora survey --grain quarter
      dora survey --grain month --by-team --from 2026-01-01
    """
    con = open_snapshot(config)
    frame = query_survey(con, Filters(grain=grain, from_date=from_date.date() if from_date else None,
                                      to_date=to_date.date() if to_date else None, service=team,
                                      by_service=by_team))
    if as_csv:
        frame["definitions_version"] = DEFINITIONS_VERSION
        write_csv(frame, sys.stdout)
        return
    if frame.empty:
        click.echo("No survey responses for these filters: load some with `dora ingest survey FILE`.")
        return
    rows = [[f"{r.period_start:%Y-%m-%d}", r.team, str(r.responses), f"{r.satisfaction_mean:.2f}",
             "–" if is_missing(r.satisfaction_sd) else f"{r.satisfaction_sd:.2f}", f"{r.satisfaction_median:g}",
             f"{r.scale_min:g}-{r.scale_max:g}"] for r in frame.itertuples()]
    click.echo(format_rows(["period", "team", "responses", "mean", "sd", "median", "scale"], rows,
                           right={2, 3, 4, 5}))
