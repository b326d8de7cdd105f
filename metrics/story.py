"""The phase story table: one row per window between annotations, every metric in each, and each
phase's change against the baseline with its verdict.

Windows come from a set of annotations in date order (by default every annotation that applies to
the scope: the organisation's, plus the service's own with a service, plus its services' own with a
team — a team's story is told from the facts of its services together, as metrics.compare does):

- the **baseline** runs from the first day with data to the day before the first annotation;
- each **phase** runs from its annotation's date to the day before the next annotation of the set
  (the last one to the last day with data).

Windows are limited to the days with data: an annotation dated after the last day with data starts
no phase, and annotations sharing a date start one phase (their names joined with " + "). Each phase
is compared with the baseline by metrics.compare (compare_windows with the story's specs), so the
verdicts use the same units, censoring and minimum samples as `dora compare`, and are adjusted with
Holm across the metrics of that phase's comparison. Every window's rows are read once (one query for
the baseline and all the phases), not once per phase. docs/metrics.md, "The phase story table",
describes the columns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import pandas as pd

from core.errors import DoraError
from metrics import compare, stats
from metrics.build import MetricSettings
from metrics.filters import Filters, environment_group

BASELINE = "baseline"

# The story's metrics in the order its table lists them, each with the column its value is written
# under (named with its unit, as the export's summary columns are).
STORY_COLUMNS = {
    "deployment_frequency": "deploys_per_day",
    "lead_time": "lead_time_median_hours",
    "lead_time_p90": "lead_time_p90_hours",
    "change_failure_rate": "change_failure_rate",
    "failed_deployment_recovery_time": "failed_deployment_recovery_median_minutes",
    "incident_recovery_time": "incident_recovery_median_minutes",
    "deployment_rework_rate": "rework_rate",
    "changes_per_deployment": "changes_per_deployment",
    "lines_per_deployment": "lines_per_deployment",
    "ci_time": "ci_median_minutes",
    "caught_in_rollout_share": "caught_in_rollout_share",
    "developer_satisfaction": "satisfaction_score",
}
_SPECS = {spec.metric: spec for spec in compare.METRICS + compare.STORY_METRICS}
STORY_SPECS = tuple(_SPECS[metric] for metric in STORY_COLUMNS)

# How a verdict is marked in a cell of the table (the CLI and the dashboard).
VERDICT_MARKS = {compare.IMPROVED: "▲", compare.WORSE: "▼", compare.NOISE: "≈", compare.NOT_ENOUGH: "?"}

# The long frame (query_story_long): one row per window and metric.
LONG_COLUMNS = ["service", "environment", "window", "start", "end", "days", "metric", "label", "unit",
                "better", "value", "estimate_kind", "vs_baseline", "ci_low", "ci_high", "verdict", "explanation"]


@dataclass(frozen=True)
class StoryWindows:
    """The baseline and the phases of one scope, each a compare.Window labelled with its name."""

    baseline: compare.Window
    phases: tuple[compare.Window, ...]


def choose_annotations(con: duckdb.DuckDBPyConnection, service: compare.Scope | str | None,
                       refs: tuple[str, ...] = ()) -> pd.DataFrame:
    """The annotations that bound the story's windows, in date order: those named by `refs` (ids or
    names; each must apply to the scope), or every annotation that applies to it."""
    chosen = compare.query_annotations(con, service, every_service=False)
    if refs:
        chosen = pd.DataFrame([compare.find_annotation(con, ref, service, chosen) for ref in refs])
        chosen = chosen.drop_duplicates(subset="id")
    return chosen.sort_values(["starts_on", "id"], kind="stable").reset_index(drop=True)


def split_windows(annotations: pd.DataFrame, span: tuple[date, date]) -> StoryWindows:
    """The baseline and phase windows that `annotations` (date order) cut the data's `span` into.

    Annotations dated after the last day with data start no phase; those sharing a date start one
    phase named after all of them; a name used on two dates is followed by the date. An annotation dated on or before the first day with data leaves
    no day for a baseline: an error naming it."""
    first_day, last_day = span
    inside = annotations[annotations["starts_on"] <= last_day]
    if inside.empty:
        raise DoraError(f"no annotation falls within the data ({first_day}..{last_day}): nothing splits it into "
                        "a baseline and phases; add one with `dora annotate add NAME --date D`")
    starts = inside.groupby("starts_on", sort=True)["name"].agg(" + ".join)
    if starts.index[0] <= first_day:
        raise DoraError(f"annotation {starts.iloc[0]!r} ({starts.index[0]}) is not after the first day with data "
                        f"({first_day}): no days are left for a baseline; choose later annotations with "
                        "--annotation")
    days = list(starts.index)
    repeated = starts.duplicated(keep=False)  # one name on two dates: each phase says its date too
    starts = starts.where(~repeated, [f"{name} ({day})" for day, name in starts.items()])
    ends = [d - timedelta(days=1) for d in days[1:]] + [last_day]
    phases = tuple(compare.Window(start, end, name) for start, end, name in zip(days, ends, starts))
    return StoryWindows(compare.Window(first_day, days[0] - timedelta(days=1), BASELINE), phases)


def story_windows(con: duckdb.DuckDBPyConnection, settings: MetricSettings,
                  service: compare.Scope | str | None = None, refs: tuple[str, ...] = (),
                  limits: tuple[date | None, date | None] = (None, None),
                  span: tuple[date, date] | None = None) -> StoryWindows:
    """The story's windows for one scope (a Scope, a service's name; None: the organisation), from the
    data's span (narrowed to `limits`, --from/--to, where given) and the chosen annotations. `span`:
    the scope's compare.data_span, where the caller has it (a team's scans millions of events);
    None: read here."""
    scope = compare.as_scope(service)
    span = span or compare.data_span(con, settings, scope)
    if span is None:
        if scope.team is not None:
            raise DoraError(f"no data for {scope.describe()}: none of its services has events")
        raise DoraError(f"no data for service {scope.services[0]!r}: check the name (`dora metrics --by service`)"
                        if scope.services else "no events loaded yet: nothing to tell")
    low, high = limits
    span = (max(low or span[0], span[0]), min(high or span[1], span[1]))
    if span[1] < span[0]:
        raise DoraError(f"--from/--to leave no day with data ({span[0]} > {span[1]})")
    annotations = choose_annotations(con, scope, refs)
    return split_windows(annotations, span)


def query_story_long(con: duckdb.DuckDBPyConnection, settings: MetricSettings,
                     service: compare.Scope | str | None = None, environment: str = "production",
                     refs: tuple[str, ...] = (),
                     limits: tuple[date | None, date | None] = (None, None),
                     span: tuple[date, date] | None = None) -> pd.DataFrame:
    """The story in long form: one row per window and metric (LONG_COLUMNS; a team's rows with `team`
    after `service`). The baseline's rows carry its values only; each phase's carry its value, its
    change against the baseline (`vs_baseline`: after ÷ baseline for rates and durations, after −
    baseline for shares, means and the survey; `estimate_kind` says which), the interval, the
    verdict and its one-line explanation. Verdicts are Holm-adjusted across the metrics of each
    phase's comparison. `service`: a Scope (a team), a service's name, or None (the organisation);
    `span`: its compare.data_span, where the caller has read it already (None: read here)."""
    scope = compare.as_scope(service)
    environment = environment_group(environment, settings)
    windows = story_windows(con, settings, scope, refs, limits, span)
    # internal names: an annotation may be called "baseline", or share a name with another
    named = {"w0": windows.baseline, **{f"w{i}": phase for i, phase in enumerate(windows.phases, start=1)}}
    read = compare.read_windows(con, named, settings, scope, environment, STORY_SPECS)
    samples = compare.window_samples(read)
    frames = []
    for key, phase in list(named.items())[1:]:
        compared = compare.tabulate_comparison(read, samples, "w0", key, scope, environment, STORY_SPECS,
                                               stats.CONFIDENCE)
        if not frames:  # the baseline's own row: its values, nothing to compare with
            frames.append(pd.DataFrame({
                "window": BASELINE, "start": windows.baseline.start, "end": windows.baseline.end,
                "days": windows.baseline.days, "metric": compared["metric"], "label": compared["label"],
                "unit": compared["unit"], "better": compared["better"], "value": compared["before_value"],
                "estimate_kind": compared["estimate_kind"]}))
        frames.append(pd.DataFrame({
            "window": phase.label, "start": phase.start, "end": phase.end, "days": phase.days,
            "metric": compared["metric"], "label": compared["label"], "unit": compared["unit"],
            "better": compared["better"], "value": compared["after_value"],
            "estimate_kind": compared["estimate_kind"], "vs_baseline": compared["estimate"],
            "ci_low": compared["ci_low"], "ci_high": compared["ci_high"], "verdict": compared["verdict"],
            "explanation": compared["explanation"]}))
    frame = pd.concat(frames, ignore_index=True)
    frame.insert(0, "service", scope.service)
    frame.insert(1, "environment", environment)
    columns = LONG_COLUMNS
    if scope.team is not None:
        frame.insert(1, "team", scope.team)
        columns = LONG_COLUMNS[:1] + ["team"] + LONG_COLUMNS[1:]
    return frame.reindex(columns=columns)


def pivot_story(long: pd.DataFrame) -> pd.DataFrame:
    """The long story as its table: one row per window, and per metric three columns — its value
    (STORY_COLUMNS names it with its unit), `<column>_vs_baseline` and `<column>_verdict`."""
    keys = [k for k in ("service", "team", "environment", "window", "start", "end", "days") if k in long.columns]
    rows = long.drop_duplicates(subset=keys)[keys].reset_index(drop=True)
    for metric, column in STORY_COLUMNS.items():
        part = long.loc[long["metric"] == metric, keys + ["value", "vs_baseline", "verdict"]]
        part = part.rename(columns={"value": column, "vs_baseline": f"{column}_vs_baseline",
                                    "verdict": f"{column}_verdict"})
        rows = rows.merge(part, on=keys, how="left", sort=False)
    return rows


def format_versus(value: float, estimate_kind: str, unit: str) -> str:
    """A phase's change against the baseline: a ratio as ×, a difference in the metric's unit."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if "ratio" in estimate_kind:
        return "×∞" if math.isinf(value) else f"×{value:.2g}" if value < 10 else f"×{value:.0f}"
    if unit == "share":
        return f"{value * 100:+.1f} pts"
    return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+.3g}"


def format_story_cell(row) -> str:
    """One cell of the story table, as people read it: the window's value, and for a phase its change
    against the baseline and its verdict's mark (VERDICT_MARKS). `row`: a row of the long frame."""
    cell = compare.format_amount(row.value, row.unit)
    if row.window == BASELINE:
        return cell
    return f"{cell} {format_versus(row.vs_baseline, row.estimate_kind, row.unit)} {VERDICT_MARKS.get(row.verdict, '')}"


def tabulate_story(long: pd.DataFrame) -> pd.DataFrame:
    """The long story as people read it: one row per metric (its label), one column per window,
    each cell from format_story_cell."""
    cells = long.assign(cell=[format_story_cell(r) for r in long.itertuples()])
    table = cells.pivot(index="metric", columns="window", values="cell")
    table = table.loc[list(dict.fromkeys(long["metric"])), list(dict.fromkeys(long["window"]))]
    labels = long.drop_duplicates("metric").set_index("metric")["label"]
    table.insert(0, "metric", labels.loc[table.index].to_numpy())
    return table.reset_index(drop=True).rename_axis(columns=None)


def query_story(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """`dora export --table story`: the story table (pivot_story) for the organisation, or --service,
    or each service with --by service (its own annotations with the organisation's), or --team (its
    services' facts together, their annotations with the organisation's), or each team with --by
    team; a service or team no annotation splits is left out of a --by listing. --from/--to narrow
    the data's span. Every annotation that applies bounds a window."""
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    frames, reasons, scopes = [], [], compare.list_scopes(con, filters)
    spans = compare.read_spans_for(con, scopes)
    for scope in scopes:
        try:
            frames.append(pivot_story(query_story_long(con, settings, scope, filters.environment,
                                                       limits=(filters.from_date, filters.to_date),
                                                       span=compare.data_span(con, settings, scope, spans))))
        except DoraError as exc:
            if not (filters.by_service or filters.by_team):
                raise
            reasons.append(f"{scope.team if scope.team is not None else scope.service}: {exc}")
    if not frames:
        raise DoraError(f"no {'team' if filters.by_team else 'service'} has a story to tell: " + "; ".join(reasons))
    return pd.concat(frames, ignore_index=True)
