"""Read the metric tables for people: the quarterly CSV (contract §3) and the terminal table."""
from __future__ import annotations

import csv
from dataclasses import replace
from typing import IO, Callable

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from core.text import neutralise_cell
from metrics import compare, insight_tables, levels, story, teams
from metrics.build import DEFINITIONS_VERSION, MetricSettings
# Readers (the CLI, the dashboard) have always found these here; their home is metrics.filters.
from metrics.filters import (GRAINS, Filters, check_grain, choose_services, describe_empty_scope, environment_group,
                             list_services)

__all__ = ["GRAINS", "REQUIRED_COLUMNS", "TABLES", "Filters", "TableQuery", "choose_services",
           "describe_empty_scope", "environment_group", "list_services", "query_summary", "query_table",
           "write_csv"]

# Contract §3: these columns, in this order, always come first (every delivery metric of
# metrics.registry is one of them: its `column`; observed_days is what deploys_per_day divides by).
REQUIRED_COLUMNS = [
    "period_start", "service", "deployments", "deploys_per_day", "observed_days", "lead_time_median_hours",
    "change_failure_rate", "failed_deployments", "incident_recovery_median_minutes",
    "failed_deployment_recovery_median_minutes", "rework_rate",
]


def query_summary(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """The summary rows for `filters`: contract §3 columns first, then the extra ones (team rows,
    computed from the team's facts, when the filters ask for teams: metrics.teams)."""
    if teams.wants_team_figures(filters):
        return teams.query_team_summary(con, filters, settings)
    check_grain(filters.grain)
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    return run_sql(con, "metrics", "export_summary", {
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
    "story": story.query_story,
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
    """CSV as the contract wants it: header, commas, dot decimals, empty cell for undefined, and
    text cells a spreadsheet would run as a formula written with a leading `'` (contract §3)."""
    text = frame.select_dtypes(include=["object", "string"]).columns
    frame = frame.assign(**{column: frame[column].map(neutralise_cell) for column in text})
    frame.to_csv(out, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, date_format="%Y-%m-%d")
