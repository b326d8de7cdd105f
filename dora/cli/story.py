"""`dora story`: the phase story table — every metric in the baseline and in each phase between
annotations, with each phase's change against the baseline and its verdict."""
from __future__ import annotations

import sys

import click
import pandas as pd

from dora.cli.base import common_options, open_snapshot
from dora.cli.compare import describe_scope
from dora.cli.output import format_rows
from dora.config import Config
from metrics import compare, story
from metrics.build import DEFINITIONS_VERSION
from metrics.export import write_csv


def format_story(long: pd.DataFrame, tz: str, explain: bool) -> str:
    """The story as a terminal table: one row per metric, one column per window (a phase's cell:
    its value, its change against the baseline and a mark for the verdict), a legend and, with
    `explain`, every verdict's line."""
    windows = long.drop_duplicates("window")
    first = long.iloc[0]
    lines = [f"Story: {describe_scope(first)}, {first.environment} (days in {tz}, both ends included)"]
    lines += [f"  {w.window}: {w.start:%Y-%m-%d}..{w.end:%Y-%m-%d} ({w.days} days)" for w in windows.itertuples()]
    lines.append("")
    table = story.tabulate_story(long)
    headers = list(table.columns)
    rows = table.to_numpy().tolist()
    lines.append(format_rows(headers, rows, right=set(range(1, len(headers)))))
    lines += ["", "Each phase against the baseline: × a ratio (rates, durations), else a difference; "
                  "▲ improved, ▼ worse, ≈ not distinguishable from noise, ? not enough data",
              "(verdicts adjusted with Holm across the metrics of each phase's comparison)."]
    if explain:
        for window, part in long[long["window"] != story.BASELINE].groupby("window", sort=False):
            lines += ["", f"{window} against the baseline:"]
            lines += [f"- {line}" for line in part["explanation"]]
    else:
        lines.append("Add --explain for each verdict's line (n, method, interval, p-values).")
    return "\n".join(lines)


@click.command("story")
@click.option("--annotation", "refs", multiple=True, metavar="NAME|ID",
              help="An annotation that starts a phase (repeat it; default: every annotation that applies).")
@click.option("--service", help="Only this service (its own annotations with the organisation's).")
@click.option("--team", help='Only this team of dora.toml ([[teams]]): its services\' facts together, their '
                             'annotations with the organisation\'s ("no team": services no team owns).')
@click.option("--environment", default="production", show_default=True, help="Environment.")
@click.option("--explain", is_flag=True, help="Also print each verdict's line (what it compared, the method, the interval).")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="A table for people, or CSV: one row per window (as `dora export --table story`).")
@common_options
def story_command(config: Config, quiet: bool, refs: tuple[str, ...], service: str | None, team: str | None,
                  environment: str, explain: bool, fmt: str) -> None:
    """Tell the phase story: every metric before the first annotation and in each phase after it.

    The baseline runs from the first day with data to the day before the first annotation; each
    phase from its annotation to the day before the next one (the last to the last day with data).
    Each phase is compared with the baseline as `dora compare` does (weeks, deployments,
    recoveries and respondents as units; open recoveries censored; Holm across the metrics of the
    phase's comparison): ▲ improved, ▼ worse, ≈ not distinguishable from noise, ? not enough data.

    \b
    Examples:
      dora story
      dora story --annotation "Phase 1: remove manual gates" --annotation "Phase 4: feature flags"
      dora story --service payments --explain
      dora story --team checkout
      dora story --format csv > story.csv
    """
    if service and team:
        raise click.UsageError("--service and --team choose two scopes: give one of them")
    con = open_snapshot(config)
    scope = compare.choose_scope(con, config.metrics, service, team, config.teams, environment)
    long = story.query_story_long(con, config.metrics, scope, environment, refs)
    if fmt == "csv":
        frame = story.pivot_story(long)
        frame["definitions_version"] = DEFINITIONS_VERSION
        write_csv(frame, sys.stdout)
        return
    click.echo(format_story(long, config.metrics.timezone, explain))
