"""Read the metric tables for people: the quarterly CSV (contract §3) and the terminal table."""
from __future__ import annotations

import csv
from dataclasses import dataclass, replace
from datetime import date
from typing import IO, Callable

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import read_sql
from metrics.build import DEFINITIONS_VERSION, MetricSettings
from metrics import insight_tables
from metrics import compare, levels

GRAINS = ("day", "week", "month", "quarter")

# Contract §3: these columns, in this order, always come first.
REQUIRED_COLUMNS = [
    "period_start", "service", "deployments", "deploys_per_day", "lead_time_median_hours",
    "change_failure_rate", "failed_deployments", "incident_recovery_median_minutes",
    "failed_deployment_recovery_median_minutes", "rework_rate",
]


@dataclass(frozen=True)
class Filters:
    """What a reader asked for: one grain, an optional date range, services, one environment."""

    grain: str = "month"
    from_date: date | None = None
    to_date: date | None = None
    service: str | None = None
    by_service: bool = False
    environment: str = "production"


def environment_group(name: str, settings: MetricSettings) -> str:
    """The environment as the facts name it: every production spelling is 'production'."""
    name = name.strip().lower()
    return "production" if name in settings.production_environments else name


def list_services(con: duckdb.DuckDBPyConnection, environment: str) -> list[str]:
    """Services with any deployment, change or incident in the environment."""
    rows = con.execute(
        "SELECT DISTINCT service FROM metric_periods WHERE environment = ? AND service <> 'all' ORDER BY 1",
        [environment],
    ).fetchall()
    return [r[0] for r in rows]


def choose_services(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str] | None:
    """The services to list, or None for the organisation as a whole ('all')."""
    if not filters.service and not filters.by_service:
        return None
    known = list_services(con, filters.environment)  # already normalised by the caller
    if filters.service:
        if filters.service not in known:
            hint = ", ".join(known[:10]) or "none yet"
            raise DoraError(f"no data for service {filters.service!r} in {filters.environment}; known: {hint}")
        return [filters.service]
    return known


def query_summary(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """The summary rows for `filters`: contract §3 columns first, then the extra ones."""
    if filters.grain not in GRAINS:
        raise DoraError(f"grain must be one of {', '.join(GRAINS)}")
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    return con.execute(read_sql("metrics", "export_summary"), {
        "grain": filters.grain,
        "from_date": filters.from_date,
        "to_date": filters.to_date,
        "environment": filters.environment,
        "services": choose_services(con, filters),
        "timezone": settings.timezone,
        "definitions_version": DEFINITIONS_VERSION,
    }).df()


# `dora export --table NAME`: every table a reader can export, each a function of the same filters.
# Each returns a DataFrame following the CSV conventions of contract §3.
TableQuery = Callable[[duckdb.DuckDBPyConnection, Filters, MetricSettings], pd.DataFrame]
TABLES: dict[str, TableQuery] = {
    "summary": query_summary,
    "lead-time-breakdown": insight_tables.query_lead_time_breakdown,
    "batch-size": insight_tables.query_batch_size,
    "pipeline": insight_tables.query_pipeline,
    "quality": insight_tables.query_quality,
    "before-after": compare.query_before_after,
    "levels": levels.query_levels,
}


def query_table(con: duckdb.DuckDBPyConnection, name: str, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """One export table; every table says which definitions produced it."""
    if name not in TABLES:
        raise DoraError(f"unknown table {name!r}; choose one of {', '.join(TABLES)}")
    frame = TABLES[name](con, filters, settings)
    if "definitions_version" not in frame.columns:
        frame["definitions_version"] = DEFINITIONS_VERSION
    return frame


def write_csv(frame: pd.DataFrame, out: IO[str]) -> None:
    """CSV as the contract wants it: header, commas, dot decimals, empty cell for undefined."""
    frame.to_csv(out, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, date_format="%Y-%m-%d")
