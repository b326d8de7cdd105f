"""Drill-down: the records behind one figure (metric × period × service), with the rules that linked them.

`explain_figure` is what `dora explain` prints and what the dashboard calls when a lead clicks a
point. Its rows reproduce the figure exactly: the figure is the statistic (`Figure.stat`) of
`value` over the rows where `counted` is true (counts: the number of counted rows; per day: that
number ÷ the period's observed days, those inside the data's coverage). Rows that are listed but not
counted say why in `detail` (a negative or unknown span, an unresolved incident).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import MetricSettings
from metrics.filters import GRAINS, check_grain, period_start_of
from metrics.registry import METRICS_BY_ID

__all__ = ["BASE_COLUMNS", "FIGURES", "GRAINS", "STATS", "Figure", "check_figure", "compute_figure",
           "describe_stat", "explain_figure", "figure_name", "period_start_of", "read_figure",
           "read_observed_days", "value_unit"]

STATS = ("count", "per_day", "rate", "median", "p75", "p90", "mean")
# The columns every explanation has, in this order; each record family adds its own after them.
BASE_COLUMNS = ["record_type", "record_id", "service", "environment", "at", "counted", "value", "unit",
                "rule", "detail"]


@dataclass(frozen=True)
class Figure:
    """How one figure is made from its records.

    family: the explain_<family>.sql query listing the candidate records;
    stat: count / per_day / rate / median / p75 / p90 / mean of `value` over counted rows;
    column: the family's column that is the value (durations; for rates the 0/1 flag);
    only: list only rows where this boolean column is true (e.g. the failed deployments);
    source: the table and column the figure is stored in.
    """

    family: str
    stat: str
    column: str | None
    unit: str
    only: str | None = None
    source: str = "metric_periods"
    stage: str | None = None  # metric_lead_time_breakdown: the stage row


def _figures() -> dict[str, Figure]:
    figures = {
        "deployments": Figure("deployments", "count", None, "deployments"),
        "deploys_per_day": Figure("deployments", "per_day", None, "deployments per day"),
        "failed_deployments": Figure("deployments", "count", None, "deployments", only="failed"),
        "change_failure_rate": Figure("deployments", "rate", "failed", "share of deployments"),
        "unplanned_deployments": Figure("deployments", "count", None, "deployments", only="unplanned"),
        "rework_rate": Figure("deployments", "rate", "unplanned", "share of deployments"),
        "changes_deployed": Figure("lead_times", "count", "lead_time_hours", "changes"),
        "incidents": Figure("incidents", "count", None, "incidents"),
        "incidents_resolved": Figure("incidents", "count", "recovery_minutes", "incidents"),
        "failed_deployment_recoveries": Figure("failures", "count", "recovery_minutes", "failed deployments"),
        "failed_deployments_caught_in_rollout": Figure("failures", "count", None, "failed deployments",
                                                       only="caught_in_rollout"),
        "caught_in_rollout_share": Figure("failures", "rate", "caught_in_rollout", "share of failed deployments"),
    }
    for stat in ("median", "p75", "p90", "mean"):
        figures[f"lead_time_{stat}_hours"] = Figure("lead_times", stat, "lead_time_hours", "hours")
    for stat in ("median", "p75", "p90", "mean"):
        figures[f"incident_recovery_{stat}_minutes"] = Figure("incidents", stat, "recovery_minutes", "minutes")
        figures[f"failed_deployment_recovery_{stat}_minutes"] = Figure("failures", stat, "recovery_minutes", "minutes")
    for stage in ("coding", "pickup", "review", "deploy_wait"):
        source = "metric_lead_time_breakdown"
        figures[f"{stage}_changes"] = Figure("change_stages", "count", f"{stage}_hours", "changes",
                                             source=source, stage=stage)
        for stat in ("median", "p75", "p90", "mean"):
            figures[f"{stage}_{stat}_hours"] = Figure("change_stages", stat, f"{stage}_hours", "hours",
                                                      source=source, stage=stage)
    return figures


FIGURES: dict[str, Figure] = _figures()


def value_unit(figure: Figure) -> str:
    """What the `value` column holds: 1 per record for counts, a 0/1 flag for rates, else a duration."""
    if figure.column is None:
        return "record"
    if figure.stat == "rate":
        return "flag"
    return "hours" if figure.column.endswith("_hours") else "minutes"


def figure_name(metric: str) -> str:
    """The FIGURES key of `metric`: a figure's own name, or a registry metric id (metrics.registry)
    whose per-period value is a figure (`lead_time` is `lead_time_median_hours`)."""
    registered = METRICS_BY_ID.get(metric)
    if registered is not None and registered.model == "metric_periods":
        return registered.column
    return metric


def check_figure(metric: str, grain: str) -> Figure:
    """The figure's recipe (by its name or its registry metric id), or an error that lists the ones
    there are."""
    check_grain(grain)
    name = figure_name(metric)
    if name not in FIGURES:
        raise DoraError(f"no figure called {metric!r}; choose one of: {', '.join(FIGURES)}")
    return FIGURES[name]


def explain_figure(
    con: duckdb.DuckDBPyConnection, metric: str, grain: str, period_start: date, service: str,
    environment: str, settings: MetricSettings,
) -> pd.DataFrame:
    """The records behind one figure, one row each, with the rule that linked them.

    `metric` is a FIGURES name or a registry metric id (`lead_time`: its median);
    `period_start` may be any day of the period; `service` 'all' is every service together;
    `environment` as the facts name it ('production' for every production spelling). Columns:
    BASE_COLUMNS, then the record family's own (deployment_id, link_rule, lead_start_field, …).
    `frame.attrs` holds metric, grain, period_start, service, environment, stat, unit,
    observed_days (the period's days inside the data's coverage) and `figure`: the value stored in
    the metric table (None when the period has no such figure).
    """
    figure = check_figure(metric, grain)
    start = period_start_of(period_start, grain)
    params = {"grain": grain, "period_start": start, "service": service, "environment": environment,
              "timezone": settings.timezone}
    frame = run_sql(con, "metrics", f"explain_{figure.family}", params).df()
    if figure.only:
        frame = frame[frame[figure.only].astype(bool)].reset_index(drop=True)
    if figure.column is None:
        value = pd.Series(1.0, index=frame.index)
        counted = pd.Series(True, index=frame.index)
    elif figure.stat == "rate":
        value = frame[figure.column].astype(float)
        counted = pd.Series(True, index=frame.index)
    else:
        # negative spans are data errors and unknown ones have no value: listed, never counted
        value = frame[figure.column].astype(float)
        counted = value.ge(0) & value.notna()
    frame["counted"] = counted.astype(bool)
    frame["value"] = value
    frame["unit"] = value_unit(figure)
    frame["detail"] = np.where(
        counted, frame["detail"].fillna(""),
        "not counted: " + np.where(value.isna(), "no value", "negative") + "; " + frame["detail"].fillna(""),
    )
    frame = frame[BASE_COLUMNS + [c for c in frame.columns if c not in BASE_COLUMNS]]
    frame.attrs.update(metric=metric, grain=grain, period_start=start, service=service,
                       environment=environment, stat=figure.stat, unit=figure.unit,
                       observed_days=read_observed_days(con, grain, start),
                       figure=read_figure(con, figure, figure_name(metric), grain, start, service, environment))
    return frame


def read_figure(con: duckdb.DuckDBPyConnection, figure: Figure, metric: str, grain: str, start: date,
                service: str, environment: str) -> float | None:
    """The figure `metric` (a FIGURES key) as the metric table stores it, or None if the period has
    no row for it. The period's whole row is read and the figure's column picked from it here."""
    params = {"grain": grain, "period_start": start, "service": service, "environment": environment,
              "stage": figure.stage}
    if figure.source == "metric_periods":
        row = run_sql(con, "metrics", "explain_figure_periods", params).df()
        column = metric
    else:
        row = run_sql(con, "metrics", "explain_figure_breakdown", params).df()
        column = {"count": "changes", "median": "median_hours", "p75": "p75_hours", "p90": "p90_hours",
                  "mean": "mean_hours"}[figure.stat]
    if row.empty or pd.isna(row.at[0, column]):
        return None
    return float(row.at[0, column])


def read_observed_days(con: duckdb.DuckDBPyConnection, grain: str, start: date) -> int:
    """The days of the period starting on `start` inside the data's coverage (fct_coverage): what
    its per-day figures divide by; 0 outside the coverage or when nothing is stored."""
    rows = run_sql(con, "metrics", "explain_observed_days", {"grain": grain, "period_start": start}).fetchall()
    return int(rows[0][0]) if rows else 0


def compute_figure(frame: pd.DataFrame) -> float | None:
    """The figure recomputed from an explanation's counted rows (None when there is nothing to count).

    Medians and percentiles interpolate between neighbours, as DuckDB's quantile_cont does.
    """
    stat = frame.attrs["stat"]
    values = frame.loc[frame["counted"], "value"].to_numpy(dtype=float)
    if stat == "count":
        return float(len(values))
    if stat == "per_day":
        days = frame.attrs["observed_days"]
        return len(values) / days if days else None
    if len(values) == 0:
        return None
    if stat in ("rate", "mean"):
        return float(values.mean())
    q = {"median": 0.5, "p75": 0.75, "p90": 0.9}[stat]
    return float(np.quantile(values, q, method="linear"))


def describe_stat(frame: pd.DataFrame) -> str:
    """How the listed rows make the figure, in words."""
    stat, unit = frame.attrs["stat"], frame.attrs["unit"]
    return {
        "count": "the number of counted rows",
        "per_day": f"the number of counted rows ÷ the period's {frame.attrs['observed_days']} observed days, "
                   "those inside the data's coverage",
        "rate": "the share of rows whose value is 1",
        "median": f"the median of value ({unit}) over counted rows, interpolated",
        "p75": f"the 75th percentile of value ({unit}) over counted rows, interpolated",
        "p90": f"the 90th percentile of value ({unit}) over counted rows, interpolated",
        "mean": f"the mean of value ({unit}) over counted rows",
    }[stat]
