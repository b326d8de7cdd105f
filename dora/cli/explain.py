"""`dora explain`: the records behind one figure, with the rule that linked each."""
from __future__ import annotations

import sys
from datetime import datetime

import click

from dora.cli.base import common_options, open_snapshot
from dora.cli.output import format_cell, format_rows
from dora.config import Config
from metrics.explain import FIGURES, GRAINS, compute_figure, describe_stat, explain_figure
from metrics.export import describe_empty_scope, environment_group, write_csv
from metrics.filters import check_service, list_environments


@click.command()
@click.argument("metric", type=click.Choice(list(FIGURES)), metavar="METRIC")
@click.option("--grain", type=click.Choice(GRAINS), default="month", show_default=True, help="Period length.")
@click.option("--period", "period", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="Any day of the period (its first day is used).")
@click.option("--service", default="all", show_default=True, help="One service, or all of them.")
@click.option("--environment", default="production", show_default=True, help="Environment.")
@click.option("--csv", "as_csv", is_flag=True, help="Write every row and column as CSV to stdout.")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows to print (not with --csv).")
@common_options
def explain(config: Config, quiet: bool, metric: str, grain: str, period: datetime, service: str,
            environment: str, as_csv: bool, limit: int) -> None:
    """List the records behind one figure, with the rule that linked each.

    METRIC is a column of `dora export` (deployments, change_failure_rate, lead_time_median_hours,
    incident_recovery_median_minutes, failed_deployment_recovery_median_minutes, …) or a lead-time
    breakdown figure (coding_median_hours, pickup_p90_hours, deploy_wait_changes, …). The figure is
    recomputed from the counted rows and printed beside the stored one: they agree. An environment
    without data prints one line naming those with data (exit 0); an unknown --service is an error
    naming the services with data.

    \b
    Examples:
      dora explain change_failure_rate --grain month --period 2026-03-01
      dora explain lead_time_median_hours --grain week --period 2026-03-04 --service payments
      dora explain failed_deployments --grain quarter --period 2026-07-01 --csv > failures.csv
    """
    con = open_snapshot(config)
    env = environment_group(environment, config.metrics)
    if service != "all":
        check_service(con, service, env)
    frame = explain_figure(con, metric, grain, period.date(), service, env, config.metrics)
    if as_csv:
        write_csv(frame, sys.stdout)
        if env not in list_environments(con):
            click.echo(describe_empty_scope(con, env), err=True)
        return
    if env not in list_environments(con):
        click.echo(describe_empty_scope(con, env))
        return
    a = frame.attrs
    click.echo(f"{metric}, {grain} from {a['period_start']:%Y-%m-%d}, service {service}, {env}")
    recomputed = compute_figure(frame)
    click.echo(f"  stored figure: {format_cell(a['figure'])}   from the rows below: {format_cell(recomputed)}"
               f"   ({describe_stat(frame)}; {int(frame['counted'].sum())} of {len(frame)} rows counted)")
    if frame.empty:
        click.echo("No records behind this figure: nothing in this period for these filters.")
        return
    shown = frame.head(limit)
    rows = [[format_cell(r.record_type), format_cell(r.record_id), format_cell(r.service), format_cell(r.at),
             format_cell(r.counted), format_cell(r.value, r.unit), format_cell(r.rule or ""),
             format_cell(r.detail or "")]
            for r in shown.itertuples(index=False)]
    value_header = f"value ({shown['unit'].iloc[0]})"
    click.echo(format_rows(["record", "id", "service", "at", "counted", value_header, "rule", "detail"], rows))
    if len(frame) > limit:
        click.echo(f"… and {len(frame) - limit} more rows: --limit {len(frame)} or --csv")
