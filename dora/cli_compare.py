"""`dora annotate`, `dora ingest survey`, `dora survey`, `dora compare` and `dora levels`."""
from __future__ import annotations

import math
import sys
from datetime import datetime

import click
import pandas as pd

from dora.cli import EXIT_REJECTS, common_options, filter_options, ingest, main, make_filters, open_current
from dora.config import Config
from dora.jobs_context import (run_annotation_add, run_annotation_remove, run_annotations_import,
                               run_survey_ingest)
from ingest.warehouse import open_warehouse
from metrics import compare, stats
from metrics.build import DEFINITIONS_VERSION
from metrics.export import GRAINS, Filters, write_csv
from metrics.levels import METRIC_LABELS, REPORTS, query_levels
from metrics.survey import query_survey


def format_rows(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """A fixed-width table; columns in `right` are right-aligned (numbers)."""
    table = [headers] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def report_counts(run, what: str, quiet: bool) -> None:
    """The end-of-run summary on stderr, and the first rejected rows."""
    c = run.counts
    if not quiet or c.rejected:
        click.echo(f"run {run.run_id}: {c.records} {what} read, {c.loaded} new or changed, "
                   f"{c.duplicates} unchanged, {c.rejected} rejected", err=True)
    for file, line_no, reason in c.reject_samples[:10]:
        click.echo(f"  rejected {file}:{line_no}: {reason}", err=True)
    if c.rejected > 10:
        click.echo(f"  … and {c.rejected - 10} more: `dora rejects --run {run.run_id}`", err=True)


# --- annotations --------------------------------------------------------------------------------


@main.group()
def annotate() -> None:
    """Dated, named process changes ("Phase 1: remove manual gates"), optionally for one service.

    They are drawn on the dashboard's charts and name the windows of `dora compare`.
    """


@annotate.command("add")
@click.argument("name")
@click.option("--date", "on", type=click.DateTime(["%Y-%m-%d"]), required=True,
              help="The day the change took effect (its window starts at 00:00 in the configured time zone).")
@click.option("--service", help="Only this service (default: the whole organisation).")
@click.option("--description", help="What changed, in a sentence.")
@common_options
def annotate_add(config: Config, quiet: bool, name: str, on: datetime, service: str | None,
                 description: str | None) -> None:
    """Add one annotation.

    \b
    Examples:
      dora annotate add "Phase 1: remove manual gates" --date 2026-05-25
      dora annotate add "payments on Kubernetes" --date 2026-03-02 --service payments \\
          --description "Moved from VMs to the shared cluster"
    """
    con = open_warehouse(config.db_path)
    ident = run_annotation_add(con, config.db_path, config.metrics, name, on.date(), service, description)
    if not quiet:
        click.echo(f"added annotation {ident}: {on:%Y-%m-%d} {name.strip()}"
                   + (f" (service {service.strip()})" if service and service.strip() else ""))


@annotate.command("list")
@click.option("--service", help="Only the annotations that apply to this service (its own and the organisation's).")
@click.option("--csv", "as_csv", is_flag=True, help="Write CSV to stdout.")
@common_options
def annotate_list(config: Config, quiet: bool, service: str | None, as_csv: bool) -> None:
    """List the annotations in date order.

    \b
    Examples:
      dora annotate list
      dora annotate list --service notifications --csv > annotations.csv
    """
    con = open_warehouse(config.db_path, read_only=True)
    frame = compare.query_annotations(con, service, every_service=service is None)
    if as_csv:
        out = frame.rename(columns={"starts_on": "date"})[["id", "date", "name", "service", "description"]]
        write_csv(out, sys.stdout)
        return
    if frame.empty:
        click.echo("No annotations yet: add one with `dora annotate add NAME --date YYYY-MM-DD`.")
        return
    rows = [[str(r.id), f"{r.starts_on:%Y-%m-%d}", r.service or "(all)", r.name, r.description or ""]
            for r in frame.itertuples()]
    click.echo(format_rows(["id", "date", "service", "name", "description"], rows, right={0}))


@annotate.command("remove")
@click.argument("ref", metavar="ID|NAME")
@common_options
def annotate_remove(config: Config, quiet: bool, ref: str) -> None:
    """Remove one annotation, by its id or its name.

    \b
    Examples:
      dora annotate remove 3
      dora annotate remove "Phase 1: remove manual gates"
    """
    con = open_warehouse(config.db_path)
    removed = run_annotation_remove(con, config.db_path, config.metrics, ref)
    if not quiet:
        r = removed.iloc[0]
        click.echo(f"removed annotation {r['id']}: {pd.Timestamp(r['starts_on']):%Y-%m-%d} {r['name']}")


@annotate.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@common_options
def annotate_import(config: Config, quiet: bool, file: str) -> None:
    """Load annotations from a CSV file with columns date,name,service,description.

    An empty service means the whole organisation. Bad rows are rejected with their line and reason
    (`dora rejects`); valid rows still load. Importing the same file again changes nothing; a name
    already stored for the same service moves to the file's date and description.

    \b
    Examples:
      dora annotate import data/sample/annotations.csv
    """
    con = open_warehouse(config.db_path)
    run = run_annotations_import(con, config.db_path, file, config.metrics)
    report_counts(run, "annotations", quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)


# --- survey -------------------------------------------------------------------------------------


@ingest.command("survey")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--scale", help="The scale when the file has no scale column, e.g. 1-5.")
@common_options
def ingest_survey(config: Config, quiet: bool, file: str, scale: str | None) -> None:
    """Load developer-satisfaction survey responses from a CSV file.

    Columns: date (YYYY-MM-DD), team (or service), respondent (any id), score, scale (LOW-HIGH,
    e.g. 1-5). Bad rows (dates, scores outside the scale, missing fields) are rejected with their
    line and reason; valid rows still load. One answer per date, team and respondent: loading the
    same file again changes nothing, and a later file repeating one replaces its score.

    \b
    Examples:
      dora ingest survey data/sample/survey.csv
      dora ingest survey pulse-2026-03.csv --scale 0-10
    """
    con = open_warehouse(config.db_path)
    run = run_survey_ingest(con, config.db_path, file, config.metrics, scale)
    report_counts(run, "responses", quiet)
    if run.counts.rejected:
        sys.exit(EXIT_REJECTS)


@main.command()
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
    con = open_current(config)
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
             "–" if missing(r.satisfaction_sd) else f"{r.satisfaction_sd:.2f}", f"{r.satisfaction_median:g}",
             f"{r.scale_min:g}-{r.scale_max:g}"] for r in frame.itertuples()]
    click.echo(format_rows(["period", "team", "responses", "mean", "sd", "median", "scale"], rows,
                           right={2, 3, 4, 5}))


# --- before/after -------------------------------------------------------------------------------


def format_change(r) -> tuple[str, str, str, str]:
    """(before, after, change, interval) for one compared metric, in its unit."""
    if r.unit == "share":
        def value(v):
            return f"{v:.1%}"

        def diff(v):
            return f"{v * 100:+.1f} pts"
    elif r.unit == "deploys/day":
        def value(v):
            return f"{v:.2f}"

        def diff(v):
            return f"×{v:.2f}"
    else:
        def value(v):
            return f"{v:.2f}" if r.metric == "developer_satisfaction" else f"{v:.1f}"

        def diff(v):
            return f"{v:+.2f}" if r.metric == "developer_satisfaction" else f"{v:+.1f}"

    def show(v, fmt):
        return "–" if missing(v) else ("∞" if math.isinf(v) else fmt(v))

    relative = "" if missing(r.relative_change) else f" ({r.relative_change:+.0%})"
    if r.unit == "deploys/day":
        change = show(r.estimate, diff) + relative
    else:
        change = show(r.absolute_change, diff) + relative
    interval = ("–" if missing(r.ci_low) and missing(r.ci_high)
                else f"{show(r.ci_low, diff)} to {show(r.ci_high, diff)}")
    return show(r.before_value, value), show(r.after_value, value), change, interval


def format_comparison(frame: pd.DataFrame, tz: str) -> str:
    """The before/after table with a header naming the windows and a footer naming the methods."""
    first = frame.iloc[0]
    lines = [
        f"Before/after: service {first.service}, {first.environment} (days in {tz}, both ends included)",
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
    resamples = next((m for m in frame["method"] if "bootstrap" in m), "")
    lines += [
        "",
        "Deploy frequency: exact Poisson rate ratio (after ÷ before). Rates: Newcombe interval of the",
        "difference in percentage points. Medians: difference in medians, "
        + (resamples or "percentile bootstrap") + ".",
        "Satisfaction: Welch t interval of the difference in means. A verdict needs the whole interval on",
        f"one side of no change; fewer than {compare.MIN_MEDIAN_SAMPLE} values on a side for a median "
        f"({compare.MIN_MEAN_SAMPLE} for the survey) is not enough data.",
    ]
    return "\n".join(lines)


@main.command("compare")
@click.option("--before", "before_range", metavar="FIRST..LAST", help="Before window, e.g. 2026-01-01..2026-03-31.")
@click.option("--after", "after_range", metavar="FIRST..LAST", help="After window, e.g. 2026-09-01..2026-11-30.")
@click.option("--before-annotation", metavar="NAME|ID",
              help="Before window: from the previous annotation (or the first day with data) to the day before this one.")
@click.option("--after-annotation", metavar="NAME|ID",
              help="After window: from this annotation to the day before the next one (or the last day with data).")
@click.option("--annotation", metavar="NAME|ID", help="Both: the window before this annotation against the one after it.")
@click.option("--service", help="Only this service (and survey team of that name).")
@click.option("--environment", default="production", show_default=True, help="Environment.")
@click.option("--seed", type=int, default=stats.SEED, show_default=True, help="Bootstrap seed.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="A table for people or CSV (the export's conventions).")
@common_options
def compare_command(config: Config, quiet: bool, before_range: str | None, after_range: str | None,
                    before_annotation: str | None, after_annotation: str | None, annotation: str | None,
                    service: str | None, environment: str, seed: int, fmt: str) -> None:
    """Compare every metric in two windows, with intervals and a verdict per metric.

    Each window is given as dates (both days included, in the configured time zone) or by an
    annotation. Windows are clipped to the days with data. The verdict is "improved" or "worse"
    when the whole 95% interval lies on one side of no change, else "not distinguishable from
    noise".

    \b
    Examples:
      dora compare --before 2025-12-01..2026-04-30 --after 2026-09-01..2026-11-30
      dora compare --before-annotation "Phase 1: remove manual gates" --after-annotation "Phase 4: feature flags"
      dora compare --annotation "Phase 3: progressive delivery" --service payments
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
    con = open_current(config)
    settings = config.metrics
    before = (compare.parse_window(before_range) if before_range
              else compare.window_before_annotation(con, before_annotation, settings, service))
    after = (compare.parse_window(after_range) if after_range
             else compare.window_after_annotation(con, after_annotation, settings, service))
    frame = compare.compare_windows(con, before, after, settings, service, environment, seed=seed)
    if fmt == "csv":
        frame.insert(6, "before_label", before.label)
        frame.insert(10, "after_label", after.label)
        frame["definitions_version"] = DEFINITIONS_VERSION
        write_csv(frame, sys.stdout)
        return
    click.echo(format_comparison(frame, settings.timezone))


# --- levels -------------------------------------------------------------------------------------


@main.command()
@filter_options
@click.option("--report", type=click.Choice(REPORTS),
              help="The DORA report whose levels to use (default: [levels] report in dora.toml, else 2024).")
@click.option("--csv", "as_csv", is_flag=True, help="Write every row and column as CSV to stdout.")
@common_options
def levels(config: Config, quiet: bool, report: str | None, as_csv: bool, **filters) -> None:
    """Classify each metric per period as elite, high, medium or low, and score it 0-10.

    Each metric is placed on its own against the chosen DORA report's table (2024's "high" change
    fail rate is worse than "medium"'s: a team is never placed by another metric). The score is
    DORA's Quick Check scale (0-10), shown with its 2025 all-industries mean.

    \b
    Examples:
      dora levels --grain quarter
      dora levels --grain month --by service --report 2023
      dora levels --grain quarter --csv > levels.csv
    """
    con = open_current(config)
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
    for r in frame.itertuples():
        cell = "–" if missing(r.quickcheck_score) else f"{r.level if isinstance(r.level, str) else '·'} {r.quickcheck_score:.1f}"
        wide.setdefault((r.period_start, r.service), {})[r.metric] = cell
    metrics = list(METRIC_LABELS)
    rows = [[f"{period:%Y-%m-%d}", service] + [cells.get(m, "–") for m in metrics]
            for (period, service), cells in wide.items()]
    click.echo(format_rows(["period", "service"] + [METRIC_LABELS[m] for m in metrics], rows))
    benchmarks = frame.drop_duplicates("metric").set_index("metric")["benchmark_2025_score"]
    click.echo(f"\nLevels: DORA {report} report, each metric on its own (rework rate has no levels). "
               "Score: 0-10 as DORA's Quick Check;\n2025 all-industries means: "
               + ", ".join(f"{METRIC_LABELS[m]} {benchmarks[m]:.1f}" for m in metrics if m in benchmarks) + ".")

