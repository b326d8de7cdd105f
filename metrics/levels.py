"""DORA performance levels and Quick Check scores per period (built by metrics/sql/metric_levels.sql).

Each metric is classified on its own against one DORA report's level table, chosen by `[levels]
report` in dora.toml (MetricSettings.levels_report); docs/metrics.md "DORA levels" has the rules.
"""
from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import MetricSettings
from metrics.filters import Filters, check_grain, choose_services, environment_group
from metrics.registry import LEVEL_REPORTS, LEVELS

__all__ = ["LEVELS", "REPORTS", "query_levels"]
REPORTS = LEVEL_REPORTS  # the DORA reports with levels (metrics.registry.LEVEL_TIERS)


def query_levels(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                 report: str | None = None) -> pd.DataFrame:
    """One row per (period, service, metric): the value, its survey answer bucket, its level in
    `report` (default: settings.levels_report) with the rule that placed it, and its Quick Check
    score beside the 2025 all-industries benchmark. `dora export --table levels`."""
    report = str(report or settings.levels_report)
    if report not in REPORTS:
        raise DoraError(f"report must be one of {', '.join(REPORTS)}")
    check_grain(filters.grain)
    if filters.grain == "day":
        raise DoraError("levels are by week, month or quarter: a single day cannot tell weekly from "
                        "monthly deployments (try --grain month)")
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    if filters.environment != "production":
        raise DoraError(f"levels are for production only: DORA's levels describe delivery to production, "
                        f"not to {filters.environment}")
    return run_sql(con, "metrics", "export_levels", {
        "report": report,
        "grain": filters.grain,
        "from_date": filters.from_date,
        "to_date": filters.to_date,
        "environment": filters.environment,
        "services": choose_services(con, filters),
    }).df()
