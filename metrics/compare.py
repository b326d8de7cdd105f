"""Before/after: every DORA metric (and developer satisfaction) in two windows, side by side, with an
uncertainty measure fitted to each and a plain verdict.

Windows are calendar dates in the configured time zone, both ends included. They come from dates
(`2026-01-01..2026-03-31`) or from annotations:

- the window *before* annotation A runs from the previous annotation's date (or the first day with
  data) to the day before A;
- the window *after* annotation B runs from B's date to the day before the next annotation (or the
  last day with data).

Only annotations that apply to the comparison bound a window: organisation-wide ones, plus those of
the service compared. Both windows are clipped to the days the warehouse has data for, so a day
before the first deployment is never counted as a day without deployments.

The raw per-item rows come from the fact tables in SQL (metrics/sql/compare_*.sql); the statistics
are in metrics/stats.py. Every function here is a pure function of (con, ...) returning a DataFrame,
for the CLI, the export and the dashboard alike.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import DoraError
from core.sql import bind_params, read_sql, run_sql
from metrics import stats
from metrics.build import MetricSettings
from metrics.filters import Filters, environment_group, list_services
from metrics.registry import get_metric

IMPROVED, WORSE, NOISE, NOT_ENOUGH = "improved", "worse", "not distinguishable from noise", "not enough data"
MIN_MEDIAN_SAMPLE = 5  # fewer values on a side: a median's bootstrap interval means little
MIN_MEAN_SAMPLE = 2  # a t interval needs a spread on each side

_RANGE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})\s*\.\.\s*(\d{4}-\d{2}-\d{2})\s*$")


@dataclass(frozen=True)
class Window:
    """A span of calendar days, both ends included; `label` says how it was chosen."""

    start: date
    end: date
    label: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d}..{self.end:%Y-%m-%d}"


@dataclass(frozen=True)
class MetricSpec:
    """One compared figure: its registry identity (metrics.registry) and how it is compared."""

    metric: str
    label: str
    unit: str
    better: str  # 'higher' or 'lower'
    estimate_kind: str


# What each compared metric's estimate is, in the order a comparison lists the metrics.
ESTIMATE_KINDS = {
    "deployment_frequency": "rate ratio",
    "lead_time": "difference in medians",
    "change_failure_rate": "difference in proportions",
    "deployment_rework_rate": "difference in proportions",
    "failed_deployment_recovery_time": "difference in medians",
    "incident_recovery_time": "difference in medians",
    "developer_satisfaction": "difference in means",
}
METRICS = tuple(MetricSpec(m.id, m.label, m.unit, m.better, ESTIMATE_KINDS[m.id])
                for m in map(get_metric, ESTIMATE_KINDS))

COLUMNS = [
    "service", "environment", "metric", "label", "unit", "better",
    "before_start", "before_end", "before_days", "after_start", "after_end", "after_days",
    "before_value", "after_value", "absolute_change", "relative_change", "before_n", "after_n",
    "estimate_kind", "estimate", "ci_low", "ci_high", "confidence", "verdict", "method",
]


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    """Run metrics/sql/<name>.sql, binding only the named parameters it uses."""
    return run_sql(con, "metrics", name, params).df()


def fetch_values(con: duckdb.DuckDBPyConnection, params: dict) -> pa.Table:
    """compare_values as Arrow, with window_name and measure dictionary-encoded: millions of lead
    times stay columnar (no Python string per row) on their way to numpy or pandas."""
    sql = read_sql("metrics", "compare_values")
    table = con.sql(sql, params=bind_params(sql, params)).to_arrow_table()
    for name in ("window_name", "measure"):
        i = table.schema.get_field_index(name)
        table = table.set_column(i, name, pc.dictionary_encode(table.column(name)))
    return table


# --- windows ----------------------------------------------------------------------------------


def parse_window(text: str) -> Window:
    """`2026-01-01..2026-03-31` (both days included) as a Window."""
    match = _RANGE.match(text or "")
    if not match:
        raise DoraError(f"window {text!r} is not FIRST..LAST, e.g. 2026-01-01..2026-03-31")
    try:
        start, end = (date.fromisoformat(part) for part in match.groups())
    except ValueError as exc:
        raise DoraError(f"window {text!r}: {exc}") from exc
    if end < start:
        raise DoraError(f"window {text!r} ends before it starts")
    return Window(start, end, str(Window(start, end)))


def query_annotations(con: duckdb.DuckDBPyConnection, service: str | None = None,
                      every_service: bool = True) -> pd.DataFrame:
    """Annotations in date order: id, name, starts_on, service (None = organisation), description,
    created_at. With `service` and not `every_service`: those that apply to it (its own and the
    organisation's); `every_service=False` without a service: organisation-wide ones only."""
    if not run_sql(con, "metrics", "annotations_exist").fetchall()[0][0]:
        # a read-only snapshot of a warehouse no write has touched since annotations existed
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "name": pd.Series(dtype=object),
                             "starts_on": pd.Series(dtype=object), "service": pd.Series(dtype=object),
                             "description": pd.Series(dtype=object),
                             "created_at": pd.Series(dtype="datetime64[us, UTC]")})
    frame = run_query(con, "list_annotations", {"every_service": every_service, "service": service})
    frame["starts_on"] = pd.to_datetime(frame["starts_on"]).dt.date
    for column in ("service", "description"):  # None, not NaN, where there is none
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def data_span(con: duckdb.DuckDBPyConnection, settings: MetricSettings,
              service: str | None = None) -> tuple[date, date] | None:
    """First and last local day the warehouse has events for (that service's, if given); None if none."""
    row = run_query(con, "compare_span", {"timezone": settings.timezone, "service": service})
    first, last = row.iloc[0]["first_day"], row.iloc[0]["last_day"]
    if pd.isna(first):
        return None
    return pd.Timestamp(first).date(), pd.Timestamp(last).date()


def find_annotation(con: duckdb.DuckDBPyConnection, ref: str, service: str | None) -> pd.Series:
    """The annotation `ref` (an id, or a name) that applies to `service` (None: the organisation)."""
    ref = str(ref).strip()
    found = query_annotations(con, service, every_service=False)
    by_id = found[found["id"] == int(ref)] if ref.isdigit() else found.iloc[0:0]
    match = by_id if not by_id.empty else found[found["name"] == ref]
    if len(match) > 1:  # the same name for the organisation and for this service: the service's wins
        match = match[match["service"].notna()]
    if match.empty:
        scope = f"service {service!r}" if service else "the whole organisation"
        known = "; ".join(f"{r.id}: {r.name}" for r in found.itertuples()) or "none yet"
        raise DoraError(f"no annotation {ref!r} applies to {scope} (known: {known}); "
                        "see `dora annotate list`")
    return match.iloc[0]


def window_before_annotation(con: duckdb.DuckDBPyConnection, ref: str, settings: MetricSettings,
                             service: str | None = None) -> Window:
    """From the previous applicable annotation (or the first day with data) to the day before `ref`."""
    annotation = find_annotation(con, ref, service)
    dates = sorted(set(query_annotations(con, service, every_service=False)["starts_on"]))
    earlier = [d for d in dates if d < annotation.starts_on]
    span = data_span(con, settings, service)
    if earlier:
        start = earlier[-1]
    elif span:
        start = span[0]
    else:
        raise DoraError("no events loaded yet: nothing to compare")
    end = annotation.starts_on - timedelta(days=1)
    if end < start:
        raise DoraError(f"no days before annotation {annotation['name']!r} ({annotation.starts_on}) "
                        f"{'since the previous annotation' if earlier else 'with data'}")
    return Window(start, end, f"before {annotation['name']}")


def window_after_annotation(con: duckdb.DuckDBPyConnection, ref: str, settings: MetricSettings,
                            service: str | None = None) -> Window:
    """From `ref`'s date to the day before the next applicable annotation (or the last day with data)."""
    annotation = find_annotation(con, ref, service)
    dates = sorted(set(query_annotations(con, service, every_service=False)["starts_on"]))
    later = [d for d in dates if d > annotation.starts_on]
    span = data_span(con, settings, service)
    if later:
        end = later[0] - timedelta(days=1)
    elif span:
        end = span[1]
    else:
        raise DoraError("no events loaded yet: nothing to compare")
    if end < annotation.starts_on:
        raise DoraError(f"no days with data from annotation {annotation['name']!r} ({annotation.starts_on})")
    return Window(annotation.starts_on, end, f"after {annotation['name']}")


def clip_window(window: Window, span: tuple[date, date] | None, name: str) -> Window:
    """The window limited to the days with data; an error if nothing is left."""
    if span is None:
        raise DoraError("no events loaded yet for this scope: nothing to compare")
    start, end = max(window.start, span[0]), min(window.end, span[1])
    if end < start:
        raise DoraError(f"the {name} window {window} has no data (data covers {span[0]}..{span[1]})")
    return replace(window, start=start, end=end)


def window_params(before: Window, after: Window, settings: MetricSettings) -> dict:
    """Both windows as [start, end) UTC instants (local midnights) and as inclusive dates."""
    zone = ZoneInfo(settings.timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(timezone.utc)

    return {
        "before_start_at": midnight(before.start), "before_end_at": midnight(before.end + timedelta(days=1)),
        "after_start_at": midnight(after.start), "after_end_at": midnight(after.end + timedelta(days=1)),
        "before_start": before.start, "before_end": before.end,
        "after_start": after.start, "after_end": after.end,
    }


# --- the comparison -----------------------------------------------------------------------------


def query_window_samples(con: duckdb.DuckDBPyConnection, before: Window, after: Window,
                         settings: MetricSettings, service: str | None = None,
                         environment: str = "production") -> pd.DataFrame:
    """The raw values behind the medians and the survey mean, for distribution charts: columns
    window ('before'/'after'), measure (lead_time_hours, failed_deployment_recovery_minutes,
    incident_recovery_minutes, satisfaction_score, satisfaction_share), value. Windows as given."""
    params = {**window_params(before, after, settings), "service": service,
              "environment": environment_group(environment, settings)}
    values = fetch_values(con, params).to_pandas().rename(columns={"window_name": "window"})
    survey = run_query(con, "compare_survey", params)
    scores = pd.concat([
        pd.DataFrame({"window": survey["window_name"], "measure": "satisfaction_score", "value": survey["score"]}),
        pd.DataFrame({"window": survey["window_name"], "measure": "satisfaction_share",
                      "value": survey["score_share"]}),
    ])
    return pd.concat([values, scores], ignore_index=True)


def decide(interval: stats.Interval, null: float, better: str, enough: bool) -> str:
    """The plain verdict: an interval wholly on the good side of `null` is an improvement, wholly on
    the bad side is worse, across it is noise."""
    if not enough or math.isnan(interval.low) or math.isnan(interval.high):
        return NOT_ENOUGH
    if interval.low > null:
        went_up = True
    elif interval.high < null:
        went_up = False
    else:
        return NOISE
    return IMPROVED if went_up == (better == "higher") else WORSE


def compare_windows(con: duckdb.DuckDBPyConnection, before: Window, after: Window, settings: MetricSettings,
                    service: str | None = None, environment: str = "production", *,
                    seed: int = stats.SEED, resamples: int = stats.RESAMPLES,
                    confidence: float = stats.CONFIDENCE, clip: bool = True) -> pd.DataFrame:
    """Every metric in `before` and `after` side by side: one row per metric (COLUMNS).

    Windows are clipped to the days with data (the row's window columns say what was used); they
    must not overlap (`clip=False`: the caller has clipped them). Values: before_value/after_value in `unit`; absolute_change = after - before;
    relative_change = that / before. estimate/ci_low/ci_high: the rate ratio (after / before) for
    deployment frequency, else the difference after - before, with its `confidence` interval.
    """
    environment = environment_group(environment, settings)
    if clip:  # False only where the caller made the windows from the data's span already
        span = data_span(con, settings, service)
        if span is None and service:
            raise DoraError(f"no data for service {service!r}: check the name (`dora metrics --by service`)")
        before, after = clip_window(before, span, "before"), clip_window(after, span, "after")
    if after.start <= before.end:
        raise DoraError(f"the windows overlap or are in the wrong order (before {before}, after {after}): "
                        "the after window must start after the before window ends")
    params = {**window_params(before, after, settings), "service": service, "environment": environment}
    counts = run_query(con, "compare_counts", params).set_index("window_name")
    values = fetch_values(con, params)
    survey = run_query(con, "compare_survey", params)

    def count(window: str, column: str) -> int:
        return int(counts.at[window, column]) if window in counts.index else 0

    def sample(measure: str, window: str) -> np.ndarray:
        keep = pc.and_(pc.equal(values["measure"], measure), pc.equal(values["window_name"], window))
        return values.filter(keep)["value"].to_numpy().astype(float)

    rows = []
    for spec in METRICS:
        if spec.metric == "deployment_frequency":
            n_b, n_a = count("before", "deployments"), count("after", "deployments")
            b, a = n_b / before.days, n_a / after.days
            interval = stats.rate_ratio_interval(n_a, after.days, n_b, before.days, confidence)
            verdict = decide(interval, 1.0, spec.better, n_a + n_b > 0)
            method = "exact Poisson rate ratio (conditional binomial, Clopper-Pearson)"
            row = dict(before_value=b, after_value=a, before_n=n_b, after_n=n_a)
        elif spec.metric in ("change_failure_rate", "deployment_rework_rate"):
            column = "failed_deployments" if spec.metric == "change_failure_rate" else "unplanned_deployments"
            n_b, n_a = count("before", "deployments"), count("after", "deployments")
            x_b, x_a = count("before", column), count("after", column)
            interval = stats.newcombe_difference(x_a, n_a, x_b, n_b, confidence)
            verdict = decide(interval, 0.0, spec.better, n_a > 0 and n_b > 0)
            method = "Newcombe hybrid score interval (from Wilson intervals)"
            row = dict(before_value=x_b / n_b if n_b else math.nan, after_value=x_a / n_a if n_a else math.nan,
                       before_n=n_b, after_n=n_a)
        elif spec.metric == "developer_satisfaction":
            scales = survey[["scale_min", "scale_max"]].drop_duplicates()
            one_scale = len(scales) == 1
            column = "score" if one_scale else "score_share"
            unit = (f"score ({scales.iloc[0].scale_min:g}-{scales.iloc[0].scale_max:g})" if one_scale
                    else "share of scale (0-1)")
            spec = replace(spec, unit=unit)
            s_b = survey.loc[survey["window_name"] == "before", column].to_numpy(dtype=float)
            s_a = survey.loc[survey["window_name"] == "after", column].to_numpy(dtype=float)
            interval = stats.welch_mean_difference(s_b, s_a, confidence)
            verdict = decide(interval, 0.0, spec.better,
                             len(s_b) >= MIN_MEAN_SAMPLE and len(s_a) >= MIN_MEAN_SAMPLE)
            method = "Welch t interval" + ("" if one_scale or scales.empty else
                                           "; answers on several scales, each put on 0-1")
            row = dict(before_value=s_b.mean() if len(s_b) else math.nan,
                       after_value=s_a.mean() if len(s_a) else math.nan, before_n=len(s_b), after_n=len(s_a))
        else:
            measure = {"lead_time": "lead_time_hours",
                       "failed_deployment_recovery_time": "failed_deployment_recovery_minutes",
                       "incident_recovery_time": "incident_recovery_minutes"}[spec.metric]
            s_b, s_a = sample(measure, "before"), sample(measure, "after")
            interval = stats.bootstrap_median_difference(s_b, s_a, resamples, seed, confidence)
            verdict = decide(interval, 0.0, spec.better,
                             len(s_b) >= MIN_MEDIAN_SAMPLE and len(s_a) >= MIN_MEDIAN_SAMPLE)
            method = f"percentile bootstrap ({resamples} resamples, seed {seed})"
            row = dict(before_value=stats.median(s_b), after_value=stats.median(s_a),
                       before_n=len(s_b), after_n=len(s_a))
        b, a = row["before_value"], row["after_value"]
        rows.append({
            "service": service or "all", "environment": environment, "metric": spec.metric,
            "label": spec.label, "unit": spec.unit, "better": spec.better,
            "before_start": before.start, "before_end": before.end, "before_days": before.days,
            "after_start": after.start, "after_end": after.end, "after_days": after.days,
            **row,
            "absolute_change": a - b,
            "relative_change": (a - b) / b if b else math.nan,
            "estimate_kind": spec.estimate_kind, "estimate": interval.estimate,
            # an interval from too few values would read as evidence: leave it out with the verdict
            "ci_low": math.nan if verdict == NOT_ENOUGH else interval.low,
            "ci_high": math.nan if verdict == NOT_ENOUGH else interval.high, "confidence": confidence,
            "verdict": verdict, "method": method,
        })
    return pd.DataFrame(rows, columns=COLUMNS)


# --- export -------------------------------------------------------------------------------------


def annotation_windows(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                       service: str | None) -> tuple[Window, Window] | None:
    """The export's windows for one scope: the first and last applicable annotations between
    --from and --to split the range; before = --from (or the first day with data) to the day before
    the first; after = the last one to --to (or the last day with data). None if no annotation."""
    span = data_span(con, settings, service)
    if span is None:
        return None
    low = max(filters.from_date or span[0], span[0])
    high = min(filters.to_date or span[1], span[1])
    found = query_annotations(con, service, every_service=False)
    inside = found[(found["starts_on"] > low) & (found["starts_on"] <= high)]
    if inside.empty:
        return None
    first, last = inside.iloc[0], inside.iloc[-1]
    before = Window(low, first.starts_on - timedelta(days=1), f"before {first['name']}")
    after = Window(last.starts_on, high, f"after {last['name']}")
    return before, after


def query_before_after(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """`dora export --table before-after`: for the organisation (or each service with --by service,
    or --service), the window before the first annotation in --from..--to against the window from
    the last one on (see annotation_windows); one row per metric, COLUMNS plus the annotations' names."""
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    if filters.service:
        scopes: list[str | None] = [filters.service]
    elif filters.by_service:
        scopes = list_services(con, filters.environment)
    else:
        scopes = [None]
    frames = []
    for service in scopes:
        windows = annotation_windows(con, filters, settings, service)
        if windows is None:
            continue
        before, after = windows
        frame = compare_windows(con, before, after, settings, service, filters.environment, clip=False)
        frame.insert(6, "before_label", before.label)
        frame.insert(10, "after_label", after.label)
        frames.append(frame)
    if not frames:
        raise DoraError("no annotation between --from and --to splits the data into a before and an "
                        "after window; add one (`dora annotate add NAME --date D`) or compare two "
                        "windows of your choice with `dora compare --before A..B --after C..D --format csv`")
    return pd.concat(frames, ignore_index=True)
