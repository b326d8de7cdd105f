"""`dora compare`: every metric in two windows, with intervals and a verdict."""
from __future__ import annotations

import math
import sys

import click
import pandas as pd

from core.errors import DoraError
from dora.cli.base import common_options, open_snapshot
from dora.cli.output import format_rows, is_missing
from dora.config import Config
from metrics import compare
from metrics.build import DEFINITIONS_VERSION
from metrics.export import write_csv
from metrics.registry import get_metric


def format_change(r) -> tuple[str, str, str, str]:
    """(before, after, change, interval) for one compared metric, written as its terminal format says."""
    terminal_format = get_metric(r.metric).terminal_format

    def value(v):
        return terminal_format.format(v)

    if r.unit == "share":
        def diff(v):
            return f"{v * 100:+.1f} pts"
    elif r.unit == "deploys/day":
        def diff(v):
            return f"×{v:.2f}"
    else:
        def diff(v):
            return terminal_format.replace("{:", "{:+", 1).format(v)  # a signed difference, same precision

    def show(v, fmt):
        return "–" if is_missing(v) else ("∞" if math.isinf(v) else fmt(v))

    relative = "" if is_missing(r.relative_change) else f" ({r.relative_change:+.0%})"
    if r.unit == "deploys/day":
        change = show(r.estimate, diff) + relative
    else:
        change = show(r.absolute_change, diff) + relative
    def ratio(v):
        return f"×{v:.3g}"

    bound = ratio if "ratio" in r.estimate_kind else diff  # ratios (frequency, medians) as ×, else differences
    interval = ("–" if is_missing(r.ci_low) and is_missing(r.ci_high)
                else f"{show(r.ci_low, bound)} to {show(r.ci_high, bound)}")
    return show(r.before_value, value), show(r.after_value, value), change, interval


def describe_scope(row) -> str:
    """How a header names a comparison's scope: `team NAME` (a team's rows), else `service NAME|all`."""
    team = getattr(row, "team", None)
    return f"team {team}" if isinstance(team, str) else f"service {row.service}"


def format_comparison(frame: pd.DataFrame, tz: str) -> str:
    """The before/after table with a header naming the windows and a footer naming the methods."""
    first = frame.iloc[0]
    lines = [
        f"Before/after: {describe_scope(first)}, {first.environment} (days in {tz}, both ends included)",
        f"  before  {first.before_start:%Y-%m-%d}..{first.before_end:%Y-%m-%d}  {first.before_days} days",
        f"  after   {first.after_start:%Y-%m-%d}..{first.after_end:%Y-%m-%d}  {first.after_days} days",
        "",
    ]
    rows = []
    for r in frame.itertuples():
        before, after, change, interval = format_change(r)
        unit = {"share": "%"}.get(r.unit, r.unit)
        rows.append([f"{r.label} [{unit}]", before, after, change, interval, str(r.before_n), str(r.after_n),
                     r.verdict])
    level = f"{first.confidence:.0%}"
    lines.append(format_rows(["metric", "before", "after", "change", f"{level} interval", "n before",
                              "n after", "verdict"], rows, right={1, 2, 5, 6}))
    lines += ["", "Each verdict in one line (what it compared, the method, the interval; verdicts adjusted for",
              "multiplicity with Holm across this comparison's metrics):"]
    lines += [f"- {line}" for line in frame["explanation"]]
    return "\n".join(lines)


def parse_range(value: str | None) -> compare.Window | None:
    """A FIRST..LAST option as a window; a malformed one is a usage error (exit 2), said before any work."""
    if value is None:
        return None
    try:
        return compare.parse_window(value)
    except DoraError as exc:
        raise click.BadParameter(str(exc)) from exc


@click.command("compare")
@click.option("--before", "before_range", metavar="FIRST..LAST", callback=lambda ctx, param, value: parse_range(value),
              help="Before window, e.g. 2026-01-01..2026-03-31.")
@click.option("--after", "after_range", metavar="FIRST..LAST", callback=lambda ctx, param, value: parse_range(value),
              help="After window, e.g. 2026-09-01..2026-11-30.")
@click.option("--before-annotation", metavar="NAME|ID",
              help="Before window: from the previous annotation (or the first day with data) to the day before this one.")
@click.option("--after-annotation", metavar="NAME|ID",
              help="After window: from this annotation to the day before the next one (or the last day with data).")
@click.option("--annotation", metavar="NAME|ID", help="Both: the window before this annotation against the one after it.")
@click.option("--service", help="Only this service (and survey team of that name).")
@click.option("--team", help='Only this team of dora.toml ([[teams]]): its services\' facts together, their '
                             'annotations with the organisation\'s ("no team": services no team owns).')
@click.option("--environment", default="production", show_default=True, help="Environment.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="A table for people or CSV (the export's conventions).")
@common_options
def compare_command(config: Config, quiet: bool, before_range: str | None, after_range: str | None,
                    before_annotation: str | None, after_annotation: str | None, annotation: str | None,
                    service: str | None, team: str | None, environment: str, fmt: str) -> None:
    """Compare every metric in two windows, with intervals and a verdict per metric.

    Each window is given as dates (both days included, in the configured time zone) or by an
    annotation. Windows are clipped to the days with data. The verdict is "improved" or "worse"
    when the change is clear of the data's own variation (weeks, deployments, respondents as the
    units; open recoveries censored) after a Holm adjustment across the metrics, else "not
    distinguishable from noise"; "not enough data" below a minimum sample. Each verdict's line
    says what it compared.

    \b
    Examples:
      dora compare --before 2025-12-01..2026-04-30 --after 2026-09-01..2026-11-30
      dora compare --before-annotation "Phase 1: remove manual gates" --after-annotation "Phase 4: feature flags"
      dora compare --annotation "Phase 3: progressive delivery" --service payments
      dora compare --annotation "Phase 3: progressive delivery" --team checkout
      dora compare --before 2026-01-01..2026-03-31 --after 2026-04-01..2026-06-30 --format csv > q1-q2.csv
    """
    if annotation:
        if before_annotation or after_annotation:
            raise click.UsageError("--annotation sets both windows: don't combine it with --before-annotation "
                                   "or --after-annotation")
        before_annotation = after_annotation = annotation
    for name, dates, ref in (("before", before_range, before_annotation), ("after", after_range, after_annotation)):
        if bool(dates) == bool(ref):
            raise click.UsageError(f"give the {name} window once: --{name} FIRST..LAST or --{name}-annotation NAME")
    if service and team:
        raise click.UsageError("--service and --team choose two scopes: give one of them")
    con = open_snapshot(config)
    settings = config.metrics
    scope = compare.choose_scope(con, settings, service, team, config.teams, environment)
    before = before_range or compare.window_before_annotation(con, before_annotation, settings, scope)
    after = after_range or compare.window_after_annotation(con, after_annotation, settings, scope)
    frame = compare.compare_windows(con, before, after, settings, scope, environment)
    if fmt == "csv":
        compare.label_windows(frame, before, after)
        frame["definitions_version"] = DEFINITIONS_VERSION
        write_csv(frame, sys.stdout)
        return
    click.echo(format_comparison(frame, settings.timezone))
