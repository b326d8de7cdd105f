"""Before/after: every DORA metric (and developer satisfaction) in two windows, side by side, with an
uncertainty measure fitted to each and a plain verdict.

Windows are calendar dates in the configured time zone, both ends included. They come from dates
(`2026-01-01..2026-03-31`) or from annotations:

- the window *before* annotation A runs from the previous annotation's date (or the first day with
  data) to the day before A;
- the window *after* annotation B runs from B's date to the day before the next annotation (or the
  last day with data).

A comparison's scope (Scope) is the organisation, one service, or a team: the facts of the team's
services together (medians do not add up; incidents and pipeline runs naming no service count only
for the organisation). Only annotations that apply to the comparison bound a window:
organisation-wide ones, plus those of the service compared (of the team's services). Both windows
are clipped to the days the warehouse has data for, so a day before the first deployment is never
counted as a day without deployments.

The raw rows come from the fact tables in SQL (metrics/sql/compare_*.sql), every window of a
comparison (or of a story) in one pass per query (read_windows): counts per day, values per item
with the unit each belongs to, survey answers with their respondent. compare_samples turns
two windows of them into one row per metric with a verdict that respects the data's dependence
(7-day blocks, deployments, respondents as units; open recoveries censored) and is adjusted for
multiplicity (Holm) across the metrics of one comparison; the statistics are in metrics/stats.py
and docs/metrics.md explains them. Every function here is a pure function of (con, ...) returning a
DataFrame, for the CLI, the export, the story table and the dashboard alike.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Mapping
from zoneinfo import ZoneInfo

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.errors import DoraError
from core.sql import bind_params, read_sql, run_sql
from metrics import stats, teams
from metrics.build import MetricSettings
from metrics.filters import Filters, environment_group, list_window_scopes, team_services
from metrics.registry import get_metric


IMPROVED, WORSE, NOISE, NOT_ENOUGH = "improved", "worse", "not distinguishable from noise", "not enough data"
BLOCK_DAYS = 7  # counts and rates: 7-day blocks from a window's first day are the independent units
MIN_BLOCKS = 2  # a spread needs two blocks on each side
MIN_DEPLOYMENTS = 5  # fewer deployments on a side: a rate or a per-deployment mean says little
MIN_UNITS = 5  # fewer deployments (lead times) or runs on a side: a quantile says little
# fewer resolved recoveries on a side: no verdict. Three suffice for a rank test to see a large
# change (three recoveries all faster than a dozen before: exact one-sided p 1/455), and the
# no-change calibration stays within 5% (docs/metrics.md, "Before/after: calibration")
MIN_RECOVERIES = 3
MIN_RESPONDENTS = 3  # fewer people answering on a side: a mean of their answers says little

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
class Scope:
    """What a comparison covers: the organisation (`services` None), one service, or a team — every
    fact of the team's services together, as metrics.teams computes a team's figures. Incidents and
    pipeline runs naming no service count only for the organisation. The output's `service` column
    names the service, else 'all' (every service of the organisation, or of the team); a team's rows
    carry a `team` column too, as `dora export --by team` does."""

    services: tuple[str, ...] | None = None
    team: str | None = None

    @property
    def service(self) -> str:
        """The output's `service` column: the one service compared, else 'all'."""
        return self.services[0] if self.team is None and self.services else "all"

    @property
    def survey_team(self) -> str | None:
        """The survey team whose answers are compared: the team, or the team named as the service
        (compare_survey.sql); None: everyone's."""
        return self.team if self.team is not None else (self.services[0] if self.services else None)

    def describe(self) -> str:
        """How a message names the scope."""
        if self.team is not None:
            return f"team {self.team!r}"
        return f"service {self.services[0]!r}" if self.services else "the whole organisation"


def as_scope(scope: Scope | str | None) -> Scope:
    """A Scope from what callers pass: a Scope, a service's name, or None (the organisation)."""
    if isinstance(scope, Scope):
        return scope
    return Scope((scope,)) if scope else Scope()


def team_scope(con: duckdb.DuckDBPyConnection, filters: Filters) -> Scope:
    """The scope of `filters.team` (a configured team or NO_TEAM): its services with data in the
    filters' environment (metrics.filters.team_services: an unknown team is an error naming them)."""
    return Scope(tuple(team_services(con, filters)), filters.team)


def choose_scope(con: duckdb.DuckDBPyConnection, settings: MetricSettings, service: str | None = None,
                 team: str | None = None, teams: tuple = (), environment: str = "production") -> Scope:
    """The scope a reader names (`dora compare`, `dora story`): a team of `teams` (dora.toml's; NO_TEAM:
    the services none owns), a service, or the organisation."""
    if service and team:
        raise DoraError("--service and --team choose two scopes: give one of them")
    if team:
        environment = environment_group(environment, settings)
        scope = team_scope(con, Filters(environment=environment, team=team.strip(), teams=teams))
        if not scope.services:
            raise DoraError(f"no data for {scope.describe()} in {environment}: none of its services has any")
        return scope
    return as_scope(service)


@dataclass(frozen=True)
class MetricSpec:
    """One compared figure: its identity, and how it is compared (`kind`, with what it reads).

    kind: 'rate' (numerator per day, 7-day blocks), 'proportion' (numerator / denominator per
    block), 'per_deployment' (a mean per deployment, blocks), 'quantile' (of `measure`, clustered
    by unit), 'recovery' (Kaplan-Meier medians of `measure`, compared by the rank-based time ratio,
    open ones censored), 'survey'."""

    metric: str
    label: str
    unit: str
    better: str  # 'higher' or 'lower'
    estimate_kind: str
    kind: str
    numerator: str = ""
    denominator: str = ""
    measure: str = ""
    q: float = 0.5
    counts: str = ""  # what before_n / after_n count, in the verdict's line


def registry_spec(metric_id: str, estimate_kind: str, kind: str, **how) -> MetricSpec:
    """A MetricSpec for a metric of metrics.registry."""
    m = get_metric(metric_id)
    return MetricSpec(m.id, m.label, m.unit, m.better, estimate_kind, kind, **how)


# The metrics `dora compare` and the before-after export compare, in the order they are listed.
METRICS = (
    registry_spec("deployment_frequency", "rate ratio", "rate", numerator="deployments",
                  counts="deployments"),
    registry_spec("lead_time", "ratio of medians", "quantile", measure="lead_time_hours", counts="changes"),
    registry_spec("change_failure_rate", "difference in proportions", "proportion",
                  numerator="failed_deployments", denominator="deployments", counts="deployments"),
    registry_spec("deployment_rework_rate", "difference in proportions", "proportion",
                  numerator="unplanned_deployments", denominator="deployments", counts="deployments"),
    registry_spec("failed_deployment_recovery_time", "time ratio", "recovery",
                  measure="failed_deployment_recovery_minutes", counts="failed deployments"),
    registry_spec("incident_recovery_time", "time ratio", "recovery",
                  measure="incident_recovery_minutes", counts="incidents"),
    registry_spec("developer_satisfaction", "difference in means", "survey", counts="answers"),
)
# The story table's further figures (metrics.story). They are not metrics of their own in
# metrics.registry: each is a second view of a model's column (metric_periods' p90, metric_batch_size's
# per-deployment sizes, metric_pipeline's CI time, fct_failures' caught_in_rollout).
STORY_METRICS = (
    MetricSpec("lead_time_p90", "Change lead time (p90)", "hours", "lower", "ratio of p90s", "quantile",
               measure="lead_time_hours", q=0.9, counts="changes"),
    MetricSpec("changes_per_deployment", "Changes per deployment (mean)", "changes", "lower",
               "difference in means", "per_deployment", numerator="changes", denominator="deployments",
               counts="deployments"),
    MetricSpec("lines_per_deployment", "Lines changed per deployment (mean)", "lines", "lower",
               "difference in means", "per_deployment", numerator="lines_changed",
               denominator="deployments_with_lines", counts="deployments with known lines"),
    MetricSpec("ci_time", "CI time (median)", "minutes", "lower", "ratio of medians", "quantile",
               measure="ci_minutes", counts="pipeline runs"),
    MetricSpec("caught_in_rollout_share", "Failures caught in rollout", "share", "higher",
               "difference in proportions", "proportion", numerator="caught_in_rollout",
               denominator="failed_deployments", counts="failed deployments"),
)

COLUMNS = [
    "service", "environment", "metric", "label", "unit", "better",
    "before_start", "before_end", "before_days", "after_start", "after_end", "after_days",
    "before_value", "after_value", "absolute_change", "relative_change", "before_n", "after_n",
    "estimate_kind", "estimate", "ci_low", "ci_high", "confidence", "verdict", "method",
    "before_units", "after_units", "df", "p_value", "p_holm", "explanation",
]



def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> pd.DataFrame:
    """Run metrics/sql/<name>.sql, binding only the named parameters it uses."""
    return run_sql(con, "metrics", name, params).df()


def fetch_values(con: duckdb.DuckDBPyConnection, params: dict) -> pa.Table:
    """compare_values as Arrow: millions of lead times stay columnar (no Python object per row) on
    their way to numpy (split_values)."""
    sql = read_sql("metrics", "compare_values")
    return con.sql(sql, params=bind_params(sql, params)).to_arrow_table()


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


def query_annotations(con: duckdb.DuckDBPyConnection, service: Scope | str | None = None,
                      every_service: bool = True) -> pd.DataFrame:
    """Annotations in date order: id, name, starts_on, service (None = organisation), description,
    created_at. With a scope (`service`: a Scope or a service's name) and not `every_service`: those
    that apply to it (the organisation's, and its service's own — a team's: its services' own);
    `every_service=False` without a service: organisation-wide ones only."""
    if not run_sql(con, "metrics", "annotations_exist").fetchall()[0][0]:
        # a read-only snapshot of a warehouse no write has touched since annotations existed
        return pd.DataFrame({"id": pd.Series(dtype="int64"), "name": pd.Series(dtype=object),
                             "starts_on": pd.Series(dtype=object), "service": pd.Series(dtype=object),
                             "description": pd.Series(dtype=object),
                             "created_at": pd.Series(dtype="datetime64[us, UTC]")})
    scope = as_scope(service)
    team = scope.team is not None and not every_service
    one = None if team or not scope.services else scope.services[0]
    frame = run_query(con, "list_annotations", {"every_service": every_service or team, "service": one})
    if team:  # a team: the organisation's and each of its services' own, as one service's are chosen
        frame = frame[frame["service"].isna() | frame["service"].isin(scope.services)].reset_index(drop=True)
    frame["starts_on"] = pd.to_datetime(frame["starts_on"]).dt.date
    for column in ("service", "description"):  # None, not NaN, where there is none
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame


def data_span(con: duckdb.DuckDBPyConnection, settings: MetricSettings, service: Scope | str | None = None,
              spans: pd.DataFrame | None = None) -> tuple[date, date] | None:
    """First and last local day the warehouse has events for; None if none. A scope of services' (a
    service's, a team's): from the earliest of their first instants to the latest of their last
    (read_service_spans: their events and the merges into their repositories; events naming no
    service count for no one). `spans`: read_service_spans, where the caller read it once for many
    scopes (an export's --by listing, the dashboard's picks)."""
    services = as_scope(service).services
    if services is None:
        first, last = run_sql(con, "metrics", "compare_span", {"timezone": settings.timezone}).fetchall()[0]
        return None if first is None else (first, last)
    spans = read_service_spans(con) if spans is None else spans
    spans = spans[spans["service"].isin(services)]
    if spans.empty or pd.isna(spans["first_at"].min()):
        return None
    return tuple(run_sql(con, "metrics", "compare_span_days", {
        "first_at": spans["first_at"].min(), "last_at": spans["last_at"].max(),
        "timezone": settings.timezone}).fetchall()[0])


def read_service_spans(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every service's first and last instant with data (compare_service_spans.sql): data_span makes
    any scope of services' days of them."""
    return run_query(con, "compare_service_spans", {})


def read_spans_for(con: duckdb.DuckDBPyConnection, scopes: list[Scope]) -> pd.DataFrame | None:
    """read_service_spans where a scope of `scopes` has services (data_span reads them), else None."""
    return read_service_spans(con) if any(scope.services is not None for scope in scopes) else None


def find_annotation(con: duckdb.DuckDBPyConnection, ref: str, service: Scope | str | None,
                    found: pd.DataFrame | None = None) -> pd.Series:
    """The annotation `ref` (an id, or a name) that applies to the scope (a Scope, a service's name;
    None: the organisation); `found`: those annotations, where the caller has read them already
    (query_annotations)."""
    ref = str(ref).strip()
    if found is None:
        found = query_annotations(con, service, every_service=False)
    by_id = found[found["id"] == int(ref)] if ref.isdigit() else found.iloc[0:0]
    match = by_id if not by_id.empty else found[found["name"] == ref]
    if len(match) > 1:  # the same name for the organisation and for this service: the service's wins
        match = match[match["service"].notna()]
    if match.empty:
        known = "; ".join(f"{r.id}: {r.name}" for r in found.itertuples()) or "none yet"
        raise DoraError(f"no annotation {ref!r} applies to {as_scope(service).describe()} (known: {known}); "
                        "see `dora annotate list`")
    return match.iloc[0]


def window_before_annotation(con: duckdb.DuckDBPyConnection, ref: str, settings: MetricSettings,
                             service: Scope | str | None = None, *, found: pd.DataFrame | None = None,
                             span: tuple[date, date] | None = None) -> Window:
    """From the previous applicable annotation (or the first day with data) to the day before `ref`.
    `found` (query_annotations for the scope) and `span` (data_span): where the caller has read them
    already; a team's span scans millions of events."""
    if found is None:
        found = query_annotations(con, service, every_service=False)
    annotation = find_annotation(con, ref, service, found)
    dates = sorted(set(found["starts_on"]))
    earlier = [d for d in dates if d < annotation.starts_on]
    span = span or data_span(con, settings, service)
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
                            service: Scope | str | None = None, *, found: pd.DataFrame | None = None,
                            span: tuple[date, date] | None = None) -> Window:
    """From `ref`'s date to the day before the next applicable annotation (or the last day with data).
    `found` and `span`: as window_before_annotation's."""
    if found is None:
        found = query_annotations(con, service, every_service=False)
    annotation = find_annotation(con, ref, service, found)
    dates = sorted(set(found["starts_on"]))
    later = [d for d in dates if d > annotation.starts_on]
    span = span or data_span(con, settings, service)
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


def windows_param(windows: Mapping[str, Window], settings: MetricSettings) -> list[dict]:
    """The windows as the compare SQL binds them ($windows): each named, as [start_at, end_at) UTC
    instants (local midnights) and as inclusive dates."""
    zone = ZoneInfo(settings.timezone)

    def midnight(day: date) -> datetime:
        return datetime.combine(day, time(), zone).astimezone(timezone.utc)

    return [{"name": name, "start_at": midnight(w.start), "end_at": midnight(w.end + timedelta(days=1)),
             "first_day": w.start, "last_day": w.end} for name, w in windows.items()]


def query_params(con: duckdb.DuckDBPyConnection, windows: Mapping[str, Window], settings: MetricSettings,
                 scope: Scope, environment: str) -> dict:
    """The bound parameters of the compare_* queries: the windows (windows_param), the scope's
    services and survey team, the time zone, the measures in MEASURES order (compare_values numbers
    them by it) and the end of the data (recoveries still open then are censored there)."""
    return {"windows": windows_param(windows, settings), "environment": environment,
            "services": None if scope.services is None else list(scope.services),
            "survey_team": scope.survey_team, "timezone": settings.timezone, "measures": list(MEASURES),
            "data_end_at": run_sql(con, "metrics", "compare_data_end").fetchall()[0][0]}


# --- the comparison -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WindowSample:
    """What one window holds, as the statistics read it (built from the warehouse by
    window_samples, or simulated by bench/bench_calibration.py):

    days: calendar days in the window; daily: one row per day with a deployment, `day` its offset
    from the window's first day (0-based) and a column per count (compare_days.sql); values: measure
    -> (values, unit ids or None, observed flags) (compare_values.sql); survey: `score`, `score_share`,
    `scale_min`, `scale_max`, `respondent` per answer (compare_survey.sql). `estimates`: a window's
    own estimates once computed (sample_estimate): the story compares its baseline with every phase
    and need not estimate the baseline's quantiles again for each."""

    days: int
    daily: pd.DataFrame
    values: dict
    survey: pd.DataFrame
    estimates: dict = field(default_factory=dict, compare=False, repr=False)


def sample_estimate(sample: WindowSample, key: tuple, compute):
    """`compute()` for this window, computed once (WindowSample.estimates, keyed by what it estimates)."""
    if key not in sample.estimates:
        sample.estimates[key] = compute()
    return sample.estimates[key]


def window_clusters(sample: WindowSample, measure: str, units: np.ndarray | None) -> np.ndarray | None:
    """A window's units of `measure` numbered once (stats.number_clusters), for all its quantiles (the
    median and the p90 of a million lead times share one numbering); None: each value its own unit."""
    if units is None:
        return None
    return sample_estimate(sample, ("clusters", measure), lambda: stats.number_clusters(units))


def estimate_quantiles(sample: WindowSample, measure: str, qs: tuple[float, ...]) -> list[stats.Estimate]:
    """A window's clustered quantiles of `measure` at each of `qs`, estimated once (sample_estimate):
    those not estimated yet are estimated together (stats.clustered_quantiles), as the story's median
    and p90 of a million lead times are."""
    missing = tuple(q for q in dict.fromkeys(qs) if ("quantile", measure, q) not in sample.estimates)
    if missing:
        values, units, _ = measure_values(sample, measure)
        found = stats.clustered_quantiles(values, missing, codes=window_clusters(sample, measure, units))
        sample.estimates.update({("quantile", measure, q): estimate for q, estimate in zip(missing, found)})
    return [sample.estimates["quantile", measure, q] for q in qs]


def block_sums(sample: WindowSample, column: str) -> np.ndarray:
    """A daily count summed over 7-day blocks from the window's first day (the last block may be
    shorter; `column` '' gives each block's days)."""
    blocks = -(-sample.days // BLOCK_DAYS)
    if not column:
        return np.minimum(BLOCK_DAYS, sample.days - BLOCK_DAYS * np.arange(blocks)).astype(float)
    if column not in sample.daily.columns or sample.daily.empty:
        return np.zeros(blocks)
    index = sample.daily["day"].to_numpy(dtype=np.int64) // BLOCK_DAYS
    return np.bincount(index, weights=sample.daily[column].to_numpy(dtype=float), minlength=blocks)


def measure_values(sample: WindowSample, measure: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(values, unit ids or None, observed) of one measure; empty arrays if there are none."""
    return sample.values.get(measure, (np.empty(0), None, np.empty(0, dtype=bool)))


@dataclass(frozen=True)
class Compared:
    """One metric compared: the two windows' figures, the interval, and what it rests on."""

    before_value: float
    after_value: float
    before_n: int
    after_n: int
    before_units: int
    after_units: int
    interval: stats.Interval
    null: float
    enough: bool
    method: str
    note: str = ""  # what the verdict's line adds (e.g. how many recoveries were still open)


def compare_metric(spec: MetricSpec, before: WindowSample, after: WindowSample, confidence: float) -> Compared:
    """One metric in two windows, by its kind (MetricSpec)."""
    if spec.kind == "rate":
        counts = [block_sums(s, spec.numerator) for s in (before, after)]
        days = [block_sums(s, "") for s in (before, after)]
        rates = [stats.block_ratio(c, d) for c, d in zip(counts, days)]
        interval = stats.difference_interval(stats.log_estimate(rates[0]), stats.log_estimate(rates[1]),
                                             0.0, confidence, log=True)
        n_b, n_a = (int(c.sum()) for c in counts)
        enough = min(rates[0].units, rates[1].units) >= MIN_BLOCKS and n_b > 0 and n_a > 0
        return Compared(n_b / before.days, n_a / after.days, n_b, n_a, rates[0].units, rates[1].units,
                        interval, 1.0, enough, f"rate ratio with 7-day blocks as units (cluster-robust, "
                        f"log scale, t with {interval.df:.0f} df)")
    if spec.kind in ("proportion", "per_deployment"):
        x = [block_sums(s, spec.numerator) for s in (before, after)]
        n = [block_sums(s, spec.denominator) for s in (before, after)]
        units = [int(np.count_nonzero(v)) for v in n]
        totals = [int(v.sum()) for v in n]
        values = [xs.sum() / ns.sum() if ns.sum() else math.nan for xs, ns in zip(x, n)]
        enough = min(units) >= MIN_BLOCKS and min(totals) >= MIN_DEPLOYMENTS
        if spec.kind == "proportion":
            interval = stats.clustered_proportion_difference(x[0], n[0], x[1], n[1], confidence)
            method = "Newcombe score interval on effective sizes (7-day blocks as units, Kish design effect)"
        else:
            interval = stats.difference_interval(stats.block_ratio(x[0], n[0]), stats.block_ratio(x[1], n[1]),
                                                 0.0, confidence)
            method = f"difference in means with 7-day blocks as units (cluster-robust, t with {interval.df:.0f} df)"
        return Compared(values[0], values[1], totals[0], totals[1], units[0], units[1], interval, 0.0,
                        enough, method)
    if spec.kind == "quantile":
        sides = [measure_values(s, spec.measure) for s in (before, after)]
        estimates = [estimate_quantiles(s, spec.measure, (spec.q,))[0] for s in (before, after)]
        interval = stats.difference_interval(*map(stats.log_quantile, estimates), 0.0, confidence, log=True)
        by = "deployments" if sides[0][1] is not None or sides[1][1] is not None else "runs"
        return Compared(estimates[0].value, estimates[1].value, len(sides[0][0]), len(sides[1][0]),
                        estimates[0].units, estimates[1].units, interval, 1.0,
                        min(e.units for e in estimates) >= MIN_UNITS,
                        f"ratio of quantiles, Woodruff intervals with {by} as units (log scale, t with "
                        f"{interval.df:.0f} df)")
    if spec.kind == "recovery":
        sides = [measure_values(s, spec.measure) for s in (before, after)]
        medians = [sample_estimate(s, ("km_median", spec.measure), lambda v=v, o=o: stats.km_median(v, o))
                   for s, (v, _, o) in zip((before, after), sides)]
        interval = stats.time_ratio_interval(sides[0][0], sides[0][2], sides[1][0], sides[1][2], confidence)
        still_open = [int((~o.astype(bool)).sum()) for _, _, o in sides]
        resolved = [len(v) - k for (v, _, _), k in zip(sides, still_open)]
        note = (f"{still_open[0]} before and {still_open[1]} after still open, censored"
                if any(still_open) else "")
        return Compared(medians[0].value, medians[1].value, resolved[0], resolved[1], len(sides[0][0]),
                        len(sides[1][0]), interval, 1.0, min(resolved) >= MIN_RECOVERIES,
                        "time ratio from the log-rank test inverted over scale changes (every recovery "
                        "a unit, open ones censored; medians by Kaplan-Meier)", note)
    # survey: answers on several scales are each put on 0..1
    scales = pd.concat([before.survey, after.survey])[["scale_min", "scale_max"]].drop_duplicates()
    column = "score" if len(scales) <= 1 else "score_share"
    estimates = [stats.clustered_mean(s.survey[column].to_numpy(dtype=float), s.survey["respondent"].to_numpy())
                 for s in (before, after)]
    interval = stats.difference_interval(estimates[0], estimates[1], 0.0, confidence)
    return Compared(estimates[0].value, estimates[1].value, len(before.survey), len(after.survey),
                    estimates[0].units, estimates[1].units, interval, 0.0,
                    min(e.units for e in estimates) >= MIN_RESPONDENTS,
                    f"difference in means with respondents as units (cluster-robust, t with {interval.df:.0f} df)"
                    + ("" if len(scales) <= 1 else "; answers on several scales, each put on 0-1"))


def decide(interval: stats.Interval, null: float, better: str, enough: bool, p_holm: float = math.nan,
           alpha: float = 1 - stats.CONFIDENCE) -> str:
    """The plain verdict: "improved" or "worse" when the change is clear of `null` — its interval
    wholly on one side and, where the metric was tested in a family, its Holm-adjusted p-value below
    `alpha`; "not distinguishable from noise" otherwise; "not enough data" below the minimum sample."""
    if not enough or math.isnan(interval.low) or math.isnan(interval.high):
        return NOT_ENOUGH
    if interval.low > null:
        went_up = True
    elif interval.high < null:
        went_up = False
    else:
        return NOISE
    if not math.isnan(p_holm) and p_holm >= alpha:
        return NOISE
    return IMPROVED if went_up == (better == "higher") else WORSE


def compare_samples(before: WindowSample, after: WindowSample, specs: tuple[MetricSpec, ...] = METRICS,
                    confidence: float = stats.CONFIDENCE) -> pd.DataFrame:
    """Every metric of `specs` in two windows: one row per metric with the figures, the interval,
    the raw and Holm-adjusted p-values (the family: the metrics with enough data) and the verdict.
    Pure: the warehouse's windows (compare_windows) and the calibration's simulated ones alike."""
    quantiles = {}  # measure -> its quantiles, estimated together (the story's median and p90)
    for spec in specs:
        if spec.kind == "quantile":
            quantiles.setdefault(spec.measure, []).append(spec.q)
    for measure, qs in quantiles.items():
        for sample in (before, after):
            estimate_quantiles(sample, measure, tuple(qs))
    done = [(spec, compare_metric(spec, before, after, confidence)) for spec in specs]
    raw = np.array([c.interval.p_value if c.enough else math.nan for _, c in done], dtype=float)
    adjusted = stats.holm_adjust(raw)
    family = int(np.count_nonzero(~np.isnan(raw)))
    rows = []
    for (spec, c), p_holm in zip(done, adjusted):
        verdict = decide(c.interval, c.null, spec.better, c.enough, p_holm, 1 - confidence)
        b, a = c.before_value, c.after_value
        rows.append({
            "metric": spec.metric, "label": spec.label, "unit": spec.unit, "better": spec.better,
            "before_value": b, "after_value": a, "absolute_change": a - b,
            "relative_change": (a - b) / b if b else math.nan,
            "before_n": c.before_n, "after_n": c.after_n,
            "estimate_kind": spec.estimate_kind, "estimate": c.interval.estimate,
            # an interval from too few values would read as evidence: leave it out with the verdict
            "ci_low": math.nan if verdict == NOT_ENOUGH else c.interval.low,
            "ci_high": math.nan if verdict == NOT_ENOUGH else c.interval.high, "confidence": confidence,
            "verdict": verdict, "method": c.method,
            "before_units": c.before_units, "after_units": c.after_units, "df": c.interval.df,
            "p_value": c.interval.p_value if c.enough else math.nan, "p_holm": p_holm,
        })
        rows[-1]["explanation"] = explain_verdict(rows[-1], spec, c, family)
    return pd.DataFrame(rows)


UNIT_NAMES = {"rate": "7-day blocks", "proportion": "7-day blocks", "per_deployment": "7-day blocks",
              "survey": "respondents", "recovery": "recoveries"}


def format_amount(value: float, unit: str) -> str:
    """A figure in its unit, as the verdict's line writes it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if math.isinf(value):
        return "∞"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "deploys/day":
        return f"{value:.2f}/day"
    if unit == "hours":
        return f"{value:.1f} h" if value >= 1 else f"{value * 60:.0f} min"
    if unit == "minutes":
        return f"{value:.1f} min"
    return f"{value:.2f} {unit}" if unit in ("changes", "lines") else f"{value:.2f}"


def format_p(p: float) -> str:
    return "–" if math.isnan(p) else ("< 0.001" if p < 0.001 else f"{p:.3f}")


def explain_verdict(row: dict, spec: MetricSpec, c: Compared, family: int) -> str:
    """The verdict in one line: what was compared (n on each side and the units they rest on), the
    method, the interval, the p-value and its Holm adjustment — enough to defend it in a review."""
    if spec.kind == "quantile":
        units = "deployments" if spec.measure == "lead_time_hours" else "runs"
    else:
        units = UNIT_NAMES[spec.kind]
    if spec.kind == "recovery":  # the open ones are counted in the note
        sides = f"{c.before_n:,} resolved {spec.counts} before, {c.after_n:,} after"
    else:
        sides = (f"{c.before_n:,} {spec.counts} ({c.before_units:,} {units}) before, "
                 f"{c.after_n:,} ({c.after_units:,}) after")
    figures = f"{format_amount(c.before_value, spec.unit)} → {format_amount(c.after_value, spec.unit)}"
    if row["verdict"] == NOT_ENOUGH:
        return f"{spec.label}: {figures}; {sides}: too little data for a verdict"
    level = f"{row['confidence']:.0%}"
    if spec.kind in ("rate", "quantile", "recovery"):
        interval = f"×{row['estimate']:.3g}, {level} interval ×{row['ci_low']:.3g} to ×{row['ci_high']:.3g}"
    elif spec.unit == "share":
        interval = (f"{row['estimate'] * 100:+.1f} pts, {level} interval {row['ci_low'] * 100:+.1f} to "
                    f"{row['ci_high'] * 100:+.1f} pts")
    else:
        interval = (f"{row['estimate']:+.3g}, {level} interval {row['ci_low']:+.3g} to {row['ci_high']:+.3g} "
                    f"{'' if spec.unit.startswith('score') else spec.unit}").rstrip()
    note = f"; {c.note}" if c.note else ""
    return (f"{spec.label}: {figures}; {sides}; {c.method}; {interval}; p {format_p(row['p_value'])}, "
            f"Holm-adjusted over {family} verdicts {format_p(row['p_holm'])}{note} → {row['verdict']}")


MEASURES = ("lead_time_hours", "failed_deployment_recovery_minutes", "incident_recovery_minutes", "ci_minutes")


Split = dict  # (window name, measure) -> (values, unit ids or None, observed): split_values


@dataclass(frozen=True)
class WindowsRead:
    """The rows of every window of one comparison (a before/after pair, a story's baseline and
    phases), each query run once for all of them: `days` (compare_days, with story_batch_days'
    columns where a spec needs them) and `survey` (compare_survey), each with a `window_name`
    column; `values`: compare_values' rows split per window and measure (split_values)."""

    windows: dict
    days: pd.DataFrame
    values: Split
    survey: pd.DataFrame


def read_windows(con: duckdb.DuckDBPyConnection, windows: Mapping[str, Window], settings: MetricSettings,
                 scope: Scope, environment: str, specs: tuple[MetricSpec, ...] = METRICS) -> WindowsRead:
    """Every window's rows in one pass per query (WindowsRead); `environment` already normalised."""
    params = query_params(con, windows, settings, scope, environment)
    days = run_query(con, "compare_days", params) if specs else pd.DataFrame()
    if any(s.kind == "per_deployment" for s in specs):  # the story's changes and lines per deployment
        batches = run_query(con, "story_batch_days", params)
        days = days.merge(batches, on=["window_name", "day"], how="left")
    values = split_values(fetch_values(con, params), list(windows))
    return WindowsRead(dict(windows), days, values, run_query(con, "compare_survey", params))


def split_values(values: pa.Table, windows: list[str]) -> Split:
    """compare_values' rows as (values, unit ids or None, observed) per (window, measure), each group
    in the order the query returned its rows. The rows are grouped by one stable sort of a small
    integer code (window x measure: numpy sorts it by radix, in linear time) and cut where each
    group ends, rather than masking every column once per window and measure: millions of lead
    times."""
    groups = len(windows) * len(MEASURES)
    code = (values["window_index"].to_numpy().astype(np.min_scalar_type(groups)) * len(MEASURES)
            + values["measure_index"].to_numpy())
    order = np.argsort(code, kind="stable")
    ends = np.cumsum(np.bincount(code, minlength=groups))
    value = values["value"].to_numpy().astype(float, copy=False)[order]
    units = values["unit_id"]
    no_unit = units.is_null().to_numpy(zero_copy_only=False)[order]
    unit = (pc.fill_null(units, 0).to_numpy().astype(np.int64, copy=False)[order] if len(units)
            else np.empty(0, dtype=np.int64))
    observed = values["observed"].to_numpy(zero_copy_only=False).astype(bool, copy=False)[order]
    split = {}
    for w, window in enumerate(windows):
        for m, measure in enumerate(MEASURES):
            g = w * len(MEASURES) + m
            part = slice(ends[g - 1] if g else 0, ends[g])
            # a unit per value, or none at all (failures, incidents and runs are their own units)
            units_here = unit[part] if part.stop > part.start and not no_unit[part].any() else None
            split[window, measure] = (value[part], units_here, observed[part])
    return split


def window_samples(read: WindowsRead) -> dict[str, WindowSample]:
    """Each window's WindowSample from the rows read once (read_windows)."""
    samples = {}
    for name, window in read.windows.items():
        daily = read.days[read.days["window_name"] == name].drop(columns="window_name")
        daily = daily.assign(day=(pd.to_datetime(daily["day"]) - pd.Timestamp(window.start)).dt.days)
        measures = {measure: read.values[name, measure] for measure in MEASURES}
        samples[name] = WindowSample(window.days, daily, measures,
                                     read.survey[read.survey["window_name"] == name])
    return samples


def tabulate_comparison(read: WindowsRead, samples: Mapping[str, WindowSample], before_name: str,
                        after_name: str, scope: Scope, environment: str, specs: tuple[MetricSpec, ...],
                        confidence: float) -> pd.DataFrame:
    """Two windows of `read` compared: one row per metric (COLUMNS; a team's rows with `team` after
    `service`)."""
    before, after = read.windows[before_name], read.windows[after_name]
    frame = compare_samples(samples[before_name], samples[after_name], specs=specs, confidence=confidence)
    if (frame["metric"] == "developer_satisfaction").any():
        survey = read.survey[read.survey["window_name"].isin([before_name, after_name])]
        scales = survey[["scale_min", "scale_max"]].drop_duplicates()
        frame.loc[frame["metric"] == "developer_satisfaction", "unit"] = (
            f"score ({scales.iloc[0].scale_min:g}-{scales.iloc[0].scale_max:g})" if len(scales) == 1
            else "share of scale (0-1)")
    frame.insert(0, "service", scope.service)
    frame.insert(1, "environment", environment)
    for position, (name, value) in enumerate((
            ("before_start", before.start), ("before_end", before.end), ("before_days", before.days),
            ("after_start", after.start), ("after_end", after.end), ("after_days", after.days)), start=6):
        frame.insert(position, name, value)
    frame = frame[COLUMNS]
    if scope.team is not None:
        frame.insert(1, "team", scope.team)
    return frame


def check_windows(con: duckdb.DuckDBPyConnection, before: Window, after: Window, settings: MetricSettings,
                  scope: Scope, clip: bool, span: tuple[date, date] | None = None) -> tuple[Window, Window]:
    """The two windows clipped to the scope's days with data (unless the caller has: `clip` False),
    and an error when they overlap or come in the wrong order. `span`: the scope's data_span, where
    the caller has read it already (None: read here)."""
    if clip:  # False only where the caller made the windows from the data's span already
        span = span or data_span(con, settings, scope)
        if span is None and scope.team is not None:
            raise DoraError(f"no data for {scope.describe()}: none of its services has events")
        if span is None and scope.services:
            raise DoraError(f"no data for service {scope.services[0]!r}: check the name (`dora metrics --by service`)")
        before, after = clip_window(before, span, "before"), clip_window(after, span, "after")
    if after.start <= before.end:
        raise DoraError(f"the windows overlap or are in the wrong order (before {before}, after {after}): "
                        "the after window must start after the before window ends")
    return before, after


def compare_windows(con: duckdb.DuckDBPyConnection, before: Window, after: Window, settings: MetricSettings,
                    service: Scope | str | None = None, environment: str = "production", *,
                    confidence: float = stats.CONFIDENCE, clip: bool = True,
                    specs: tuple[MetricSpec, ...] = METRICS, span: tuple[date, date] | None = None) -> pd.DataFrame:
    """Every metric in `before` and `after` side by side: one row per metric (COLUMNS).

    `service`: the scope — a Scope (a team), a service's name, or None for the organisation.
    Windows are clipped to the days with data (the row's window columns say what was used); they
    must not overlap (`clip=False`: the caller has clipped them; `span`: the scope's data_span, where
    the caller has it, to clip them by). Values: before_value/after_value in
    `unit`; absolute_change = after - before; relative_change = that / before. estimate/ci_low/ci_high:
    the rate ratio (after / before) for deployment frequency, else the difference after - before,
    with its `confidence` interval; verdicts adjusted for multiplicity (Holm) across the metrics.
    """
    return compare_with_values(con, before, after, settings, service, environment, confidence=confidence,
                               clip=clip, specs=specs, span=span)[0]


def compare_with_values(con: duckdb.DuckDBPyConnection, before: Window, after: Window, settings: MetricSettings,
                        service: Scope | str | None = None, environment: str = "production", *,
                        confidence: float = stats.CONFIDENCE, clip: bool = True,
                        specs: tuple[MetricSpec, ...] = METRICS,
                        span: tuple[date, date] | None = None) -> tuple[pd.DataFrame, WindowsRead]:
    """compare_windows, and the rows it read (WindowsRead): the dashboard draws the distributions
    from them (distribution_values) instead of reading the windows a second time."""
    scope = as_scope(service)
    environment = environment_group(environment, settings)
    before, after = check_windows(con, before, after, settings, scope, clip, span)
    read = read_windows(con, {"before": before, "after": after}, settings, scope, environment, specs)
    frame = tabulate_comparison(read, window_samples(read), "before", "after", scope, environment, specs,
                                confidence)
    return frame, read


@dataclass(frozen=True)
class ReadWindow:
    """One window's rows (read_windows of that window alone) and its WindowSample: a caller that
    compares the same window with several others (the dashboard's baseline against each period, at
    each grain) reads it, and estimates its quantiles, once (compare_read)."""

    read: WindowsRead
    sample: WindowSample


def read_window(con: duckdb.DuckDBPyConnection, name: str, window: Window, settings: MetricSettings, scope: Scope,
                environment: str, specs: tuple[MetricSpec, ...] = METRICS) -> ReadWindow:
    """`window`'s rows as `name` ('before' or 'after' in compare_read), checked and clipped already
    (check_windows); `environment` already normalised."""
    read = read_windows(con, {name: window}, settings, scope, environment, specs)
    return ReadWindow(read, window_samples(read)[name])


def compare_read(before: ReadWindow, after: ReadWindow, scope: Scope, environment: str, *,
                 specs: tuple[MetricSpec, ...] = METRICS, confidence: float = stats.CONFIDENCE) -> pd.DataFrame:
    """compare_windows of two windows read apart (read_window, named 'before' and 'after'): the same
    rows, as every figure is computed from one window's rows alone."""
    read = WindowsRead({**before.read.windows, **after.read.windows},
                       pd.concat([before.read.days, after.read.days], ignore_index=True),
                       {**before.read.values, **after.read.values},
                       pd.concat([before.read.survey, after.read.survey], ignore_index=True))
    return tabulate_comparison(read, {"before": before.sample, "after": after.sample}, "before", "after", scope,
                               environment, specs, confidence)


DRAWN = ("lead_time_hours", "failed_deployment_recovery_minutes", "incident_recovery_minutes",
         "satisfaction_score", "satisfaction_share")  # the measures distribution_values gives


def distribution_values(read: WindowsRead) -> pd.DataFrame:
    """The raw values behind the medians and the survey mean, for distribution charts: columns
    window, measure (DRAWN), value; a window's values together, measure by measure. Recoveries still
    open are not drawn (they have no value yet). Window and measure are categories built from codes:
    no Python string per value (millions of lead times)."""
    windows = list(read.windows)
    codes, parts = [], []
    for w, window in enumerate(windows):
        answers = read.survey[read.survey["window_name"] == window]
        for m, measure in enumerate(DRAWN):
            if measure.startswith("satisfaction_"):
                part = answers["score" if measure == "satisfaction_score" else "score_share"].to_numpy(dtype=float)
            else:
                values, _, observed = read.values[window, measure]
                part = values[observed]
            codes.append((w, m, len(part)))
            parts.append(part)
    lengths = [n for _, _, n in codes]
    return pd.DataFrame({
        "window": pd.Categorical.from_codes(np.repeat([w for w, _, _ in codes], lengths), windows),
        "measure": pd.Categorical.from_codes(np.repeat([m for _, m, _ in codes], lengths), list(DRAWN)),
        "value": np.concatenate(parts) if parts else np.empty(0)})


def query_window_samples(con: duckdb.DuckDBPyConnection, before: Window, after: Window,
                         settings: MetricSettings, service: Scope | str | None = None,
                         environment: str = "production") -> pd.DataFrame:
    """The raw values behind the medians and the survey mean of two windows as given, for
    distribution charts (distribution_values; window 'before'/'after'). Where the comparison is
    computed too, compare_with_values reads the windows once for both."""
    read = read_windows(con, {"before": before, "after": after}, settings, as_scope(service),
                        environment_group(environment, settings), specs=())
    return distribution_values(read)


# --- export -------------------------------------------------------------------------------------


def annotation_windows(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                       service: Scope | str | None, spans: pd.DataFrame | None) -> tuple[Window, Window] | None:
    """The export's windows for one scope: the first and last applicable annotations between
    --from and --to split the range; before = --from (or the first day with data) to the day before
    the first; after = the last one to --to (or the last day with data). None if no annotation.
    `spans`: read_spans_for the export's scopes, read once for them all (data_span)."""
    span = data_span(con, settings, service, spans)
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


def list_scopes(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[Scope]:
    """The scopes a window comparison (the export's before-after and story tables) runs for: --team
    (with --by service: its services one by one), every team (--by team, NO_TEAM included when some
    service has none), else --service, every service or the organisation (list_window_scopes).
    `filters.environment` is already normalised by the caller."""
    if filters.team and filters.by_service:
        return [Scope((service,)) for service in team_services(con, filters)]
    if filters.team or filters.by_team:
        return [team_scope(con, replace(filters, team=name)) for name in teams.list_team_names(con, filters)]
    return [as_scope(service) for service in list_window_scopes(con, filters)]


def label_windows(frame: pd.DataFrame, before: Window, after: Window) -> pd.DataFrame:
    """The comparison with `before_label` and `after_label` (how each window was chosen) before each
    window's first column."""
    frame.insert(frame.columns.get_loc("before_start"), "before_label", before.label)
    frame.insert(frame.columns.get_loc("after_start"), "after_label", after.label)
    return frame


def query_before_after(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """`dora export --table before-after`: for the organisation (or each service with --by service,
    or --service, or a team with --team, or each team with --by team), the window before the first
    annotation in --from..--to against the window from the last one on (see annotation_windows); one
    row per metric, COLUMNS plus the annotations' names (and `team` for a team's rows)."""
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    frames, scopes = [], list_scopes(con, filters)
    spans = read_spans_for(con, scopes)
    for scope in scopes:
        windows = annotation_windows(con, filters, settings, scope, spans)
        if windows is None:
            continue
        before, after = windows
        frame = compare_windows(con, before, after, settings, scope, filters.environment, clip=False)
        frames.append(label_windows(frame, before, after))
    if not frames:
        raise DoraError("no annotation between --from and --to splits the data into a before and an "
                        "after window; add one (`dora annotate add NAME --date D`) or compare two "
                        "windows of your choice with `dora compare --before A..B --after C..D --format csv`")
    return pd.concat(frames, ignore_index=True)
