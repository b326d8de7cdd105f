"""Drill-down: the records behind one figure (metric × period × service), with the rules that linked them.

`explain_figure` is what `dora explain` prints and what the dashboard calls when a lead clicks a
point. Its rows reproduce the figure exactly: the figure is the statistic (`Figure.stat`) of
`value` over the rows where `counted` is true (counts: the number of counted rows; per day: that
number ÷ the period's days). Rows that are listed but not counted say why in `detail` (a negative
or unknown span, an unresolved incident).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import numpy as np
import pandas as pd

from core.errors import DoraError
from core.sql import read_sql
from metrics.build import MetricSettings

GRAINS = ("day", "week", "month", "quarter")
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
    }
    for stat in ("median", "p75", "p90", "mean"):
        figures[f"lead_time_{stat}_hours"] = Figure("lead_times", stat, "lead_time_hours", "hours")
    for stat in ("median", "p90", "mean"):
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


def period_start_of(day: date, grain: str) -> date:
    """The first day of the period of `grain` that holds `day` (weeks start on Monday)."""
    if grain == "day":
        return day
    if grain == "week":
        return date.fromordinal(day.toordinal() - day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_days(period_start: date, grain: str) -> int:
    """Calendar days in the period (deploys per day divides by these)."""
    if grain in ("day", "week"):
        return 1 if grain == "day" else 7
    months = 1 if grain == "month" else 3
    month = period_start.month - 1 + months
    end = date(period_start.year + month // 12, month % 12 + 1, 1)
    return (end - period_start).days


def value_unit(figure: Figure) -> str:
    """What the `value` column holds: 1 per record for counts, a 0/1 flag for rates, else a duration."""
    if figure.column is None:
        return "record"
    if figure.stat == "rate":
        return "flag"
    return "hours" if figure.column.endswith("_hours") else "minutes"


def check_figure(metric: str, grain: str) -> Figure:
    """The figure's recipe, or an error that lists the ones there are."""
    if grain not in GRAINS:
        raise DoraError(f"grain must be one of {', '.join(GRAINS)}")
    if metric not in FIGURES:
        raise DoraError(f"no figure called {metric!r}; choose one of: {', '.join(FIGURES)}")
    return FIGURES[metric]


def explain_figure(
    con: duckdb.DuckDBPyConnection, metric: str, grain: str, period_start: date, service: str,
    environment: str, settings: MetricSettings,
) -> pd.DataFrame:
    """The records behind one figure, one row each, with the rule that linked them.

    `period_start` may be any day of the period; `service` 'all' is every service together;
    `environment` as the facts name it ('production' for every production spelling). Columns:
    BASE_COLUMNS, then the record family's own (deployment_id, link_rule, lead_start_field, …).
    `frame.attrs` holds metric, grain, period_start, service, environment, stat, unit and `figure`:
    the value stored in the metric table (None when the period has no such figure).
    """
    figure = check_figure(metric, grain)
    start = period_start_of(period_start, grain)
    params = {"grain": grain, "period_start": start, "service": service, "environment": environment,
              "timezone": settings.timezone}
    frame = con.execute(read_sql("metrics", f"explain_{figure.family}"), params).df()
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
                       figure=read_figure(con, figure, metric, grain, start, service, environment))
    return frame


def read_figure(con: duckdb.DuckDBPyConnection, figure: Figure, metric: str, grain: str, start: date,
                service: str, environment: str) -> float | None:
    """The figure as the metric table stores it, or None if the period has no row for it."""
    if figure.source == "metric_periods":
        sql = (f"SELECT {metric} FROM metric_periods WHERE grain = ? AND period_start = ? "  # metric: a FIGURES key
               "AND service = ? AND environment = ?")
        rows = con.execute(sql, [grain, start, service, environment]).fetchall()
    else:
        column = {"count": "changes", "median": "median_hours", "p75": "p75_hours", "p90": "p90_hours",
                  "mean": "mean_hours"}[figure.stat]
        rows = con.execute(
            f"SELECT {column} FROM metric_lead_time_breakdown WHERE grain = ? AND period_start = ? "
            "AND service = ? AND environment = ? AND stage = ?",
            [grain, start, service, environment, figure.stage],
        ).fetchall()
    if not rows or rows[0][0] is None:
        return None
    return float(rows[0][0])


def compute_figure(frame: pd.DataFrame) -> float | None:
    """The figure recomputed from an explanation's counted rows (None when there is nothing to count).

    Medians and percentiles interpolate between neighbours, as DuckDB's quantile_cont does.
    """
    stat = frame.attrs["stat"]
    values = frame.loc[frame["counted"], "value"].to_numpy(dtype=float)
    if stat == "count":
        return float(len(values))
    if stat == "per_day":
        return len(values) / period_days(frame.attrs["period_start"], frame.attrs["grain"])
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
        "per_day": "the number of counted rows ÷ days in the period",
        "rate": "the share of rows whose value is 1",
        "median": f"the median of value ({unit}) over counted rows, interpolated",
        "p75": f"the 75th percentile of value ({unit}) over counted rows, interpolated",
        "p90": f"the 90th percentile of value ({unit}) over counted rows, interpolated",
        "mean": f"the mean of value ({unit}) over counted rows",
    }[stat]
