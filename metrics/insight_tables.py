"""Export tables for the metrics that explain: lead-time breakdown, batch size, pipeline, data quality.

Each is a `TableQuery` (con, Filters, MetricSettings) -> DataFrame registered in
`metrics.export.TABLES`, following the CSV conventions of contract §3 (docs/export.md).
"""
from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import DEFINITIONS_VERSION, MetricSettings
from metrics.filters import Filters, check_grain, choose_services, environment_group


def _params(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
            known_services: str = "metric_periods") -> dict:
    """The bound parameters every insight export takes, with the filters checked."""
    check_grain(filters.grain)
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    return {
        "grain": filters.grain,
        "from_date": filters.from_date,
        "to_date": filters.to_date,
        "environment": filters.environment,
        "services": choose_services(con, filters) if known_services == "metric_periods" else None,
        "timezone": settings.timezone,
        "definitions_version": DEFINITIONS_VERSION,
    }


def query_lead_time_breakdown(con: duckdb.DuckDBPyConnection, filters: Filters,
                              settings: MetricSettings) -> pd.DataFrame:
    """Coding, pickup, review and deploy wait per period (and service), beside lead time."""
    return run_sql(con, "metrics", "export_lead_time_breakdown", _params(con, filters, settings)).df()


def query_batch_size(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """Change fail rate, recovery and lead time by batch-size and cadence bucket, per period."""
    params = _params(con, filters, settings)
    if params["grain"] == "day":
        raise DoraError("batch-size is computed per week, month or quarter (cadence is weekly, and a day "
                        "holds too few deployments per bucket): try --grain week")
    if params["environment"] != "production":
        raise DoraError("batch-size is computed for production only (failures and recovery are production's)")
    return run_sql(con, "metrics", "export_batch_size", params).df()


def list_pipeline_services(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Services named by any pipeline run."""
    return [r[0] for r in run_sql(con, "metrics", "list_pipeline_services").fetchall()]


def query_pipeline(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """Pipeline health per period (and service) and stage; pipelines have no environment."""
    params = _params(con, filters, settings, known_services="pipeline")
    del params["environment"]
    if filters.team or filters.by_team:  # a team's services one by one; no team figures (CI medians)
        known = set(list_pipeline_services(con))
        params["services"] = [s for s in choose_services(con, filters) if s in known]
    elif filters.service or filters.by_service:
        known = list_pipeline_services(con)
        if filters.service and filters.service not in known:
            hint = ", ".join(known[:10]) or "none yet"
            raise DoraError(f"no pipeline runs for service {filters.service!r}; known: {hint}")
        params["services"] = [filters.service] if filters.service else known
    return run_sql(con, "metrics", "export_pipeline", params).df()


def query_quality(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """Data-quality findings counted per period (and service) and finding, with examples."""
    params = _params(con, filters, settings, known_services="quality")
    params["services"] = None
    if filters.team or filters.by_team:  # findings are listed per service: a team's, one by one
        if not (filters.team and filters.by_service):
            raise DoraError("the quality table lists a team's findings per service: try --team NAME --by service")
        params["services"] = choose_services(con, filters)
    params.update(service=filters.service, by_service=filters.by_service)
    return run_sql(con, "metrics", "export_quality", params).df()
