"""`dora metrics`: the summary table in the terminal."""
from __future__ import annotations

import click
import pandas as pd

from dora.cli.base import common_options, filter_options, make_filters, open_snapshot
from dora.cli.output import format_rows, is_missing, metric_header
from dora.config import Config
from metrics.export import describe_empty_scope, environment_group, query_summary
from metrics.registry import get_metric

# The table's columns after period and service, in the order people read them: metric ids (their
# header and format come from the registry) and the two counts that are not metrics.
SUMMARY_COLUMNS = ("deployments", "deployment_frequency", "lead_time", "change_failure_rate", "failed_deployments",
                   "failed_deployment_recovery_time", "incident_recovery_time", "deployment_rework_rate")
COUNT_HEADERS = {"deployments": "deploys", "failed_deployments": "failed"}


@click.command()
@filter_options
@common_options
def metrics(config: Config, quiet: bool, **filters) -> None:
    """Print the DORA metrics as a table, one row per period (and service).

    Periods span the days the data covers. With no data for the filters (nothing loaded yet, an
    environment without data) it prints one line saying so, naming the environments that have data,
    and exits 0.

    \b
    Examples:
      dora metrics
      dora metrics --grain week --from 2026-01-01 --by service
    """
    con = open_snapshot(config)
    frame = query_summary(con, make_filters(**filters), config.metrics)
    if frame.empty:
        click.echo(describe_empty_scope(con, environment_group(filters["environment"], config.metrics)))
        return
    click.echo(format_summary(frame))


def format_summary(frame: pd.DataFrame) -> str:
    """The summary as a fixed-width table: period, service, then counts and metrics, numbers right-aligned."""
    scope = "team" if "team" in frame.columns else "service"  # team rows (--by team, --team): the team
    headers = ["period", scope]
    formatters = []
    for column in SUMMARY_COLUMNS:
        if column in COUNT_HEADERS:
            headers.append(COUNT_HEADERS[column])
            formatters.append((column, lambda v: "–" if is_missing(v) else f"{v:d}"))
        else:
            metric = get_metric(column)
            headers.append(metric_header(metric))
            formatters.append((metric.column, metric.format_terminal))
    rows = [[f"{r['period_start']:%Y-%m-%d}", str(r[scope])] + [fmt(r[col]) for col, fmt in formatters]
            for r in frame.to_dict("records")]
    return format_rows(headers, rows, right=set(range(2, len(headers))))
