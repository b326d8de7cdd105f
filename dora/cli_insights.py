"""`dora explain` (the records behind a figure) and `dora quality` (the data-quality report)."""
from __future__ import annotations

import sys
from datetime import datetime

import click
import pandas as pd

from dora.cli import common_options, main, open_current
from dora.config import Config
from metrics.explain import FIGURES, GRAINS, compute_figure, describe_stat, explain_figure
from metrics.export import environment_group, write_csv
from metrics.quality import FINDINGS, list_findings, report_quality


def format_cell(value, unit: str | None = None) -> str:
    """One cell for the terminal: empty for undefined, short times, numbers to 4 significant digits."""
    if value is None or (isinstance(value, float) and value != value) or value is pd.NaT:
        return "–"
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if unit in (None, "record", "flag") else f"{value:.2f}"
    return str(value)


def format_rows(rows: list[list[str]], headers: list[str]) -> str:
    """A left-aligned fixed-width table; the last column is not padded."""
    table = [headers] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@main.command()
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
    recomputed from the counted rows and printed beside the stored one: they agree.

    \b
    Examples:
      dora explain change_failure_rate --grain month --period 2026-03-01
      dora explain lead_time_median_hours --grain week --period 2026-03-04 --service payments
      dora explain failed_deployments --grain quarter --period 2026-07-01 --csv > failures.csv
    """
    con = open_current(config)
    env = environment_group(environment, config.metrics)
    frame = explain_figure(con, metric, grain, period.date(), service, env, config.metrics)
    if as_csv:
        write_csv(frame, sys.stdout)
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
    click.echo(format_rows(rows, ["record", "id", "service", "at", "counted", value_header, "rule", "detail"]))
    if len(frame) > limit:
        click.echo(f"… and {len(frame) - limit} more rows: --limit {len(frame)} or --csv")


@main.command()
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
    con = open_current(config)
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
            click.echo(f"  {r.entity_id}  {format_cell(r.occurred_at)}  {where + '  ' if where else ''}{r.detail}")
        if total > len(group):
            click.echo(f"  … and {total - len(group)} more: dora quality --finding {name} --examples {total}")
