"""DORA performance levels and Quick Check scores per period (built by metrics/sql/metric_levels.sql).

Each metric is classified on its own against one DORA report's level table, chosen by `[levels]
report` in dora.toml (MetricSettings.levels_report); docs/metrics.md "DORA levels" has the rules.
A team's levels are classified when read, from the team's own figures (metrics.teams: the facts of
its services together) by the same stored rules (the macro classify_levels) as the services' levels.
"""
from __future__ import annotations

from dataclasses import asdict, replace

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import MetricSettings
from metrics.filters import Filters, check_grain, choose_services, environment_group
from metrics.registry import LEVEL_REPORTS, LEVEL_TIERS, LEVELS
from metrics.teams import query_team_figures, wants_team_figures

__all__ = ["LEVELS", "REPORTS", "query_levels", "query_team_levels"]
REPORTS = LEVEL_REPORTS  # the DORA reports with levels (metrics.registry.LEVEL_TIERS)


def query_levels(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                 report: str | None = None, team_figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (period, service, metric): the value, its survey answer bucket, its level in
    `report` (default: settings.levels_report) with the rule that placed it, and its Quick Check
    score beside the 2025 all-industries benchmark. `dora export --table levels`. With --team or --by
    team: one row per (period, team, metric) from the team's own figures (query_team_levels;
    `team_figures`: those figures for the same filters, where the caller has read them already)."""
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
    if wants_team_figures(filters):
        return query_team_levels(con, filters, settings, report, team_figures)
    return run_sql(con, "metrics", "export_levels", {
        "report": report,
        "grain": filters.grain,
        "from_date": filters.from_date,
        "to_date": filters.to_date,
        "environment": filters.environment,
        "services": choose_services(con, filters),
    }).df()


# The figures classify_levels reads, as team_summary names them.
FIGURE_COLUMNS = ["period_start", "team", "deployments", "failed_deployments", "deploys_per_day",
                  "lead_time_median_hours", "changes_deployed", "change_failure_rate",
                  "failed_deployment_recovery_median_minutes", "failed_deployment_recoveries",
                  "incident_recovery_median_minutes", "incidents_resolved", "rework_rate"]


def query_team_levels(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                      report: str, figures: pd.DataFrame | None = None) -> pd.DataFrame:
    """The levels of one team (--team) or of every team (--by team), per period: each team's figures
    (metrics.teams.query_team_figures) classified by the stored rules (team_levels.sql). Periods
    without a deployment, a lead time or an incident have no levels, as a service's have none.
    `figures`: query_team_figures' frame for the same filters when the caller has it (the dashboard
    reads it for the team's cards): computing it is most of the cost."""
    if figures is None:
        figures = query_team_figures(con, filters, settings)
    figures = figures[(figures["deployments"] > 0) | (figures["changes_deployed"] > 0) | (figures["incidents"] > 0)]
    order = {team: position for position, team in enumerate(dict.fromkeys(figures["team"]))}
    rows = figures[FIGURE_COLUMNS].assign(position=figures["team"].map(order))
    rows = rows.astype(object).where(rows.notna(), None).to_dict("records")  # undefined values bound as NULL
    try:
        return run_sql(con, "metrics", "team_levels", {
            "figures": rows, "grain": filters.grain, "report": report,
            "level_tiers": [asdict(t) for t in LEVEL_TIERS]}).df()
    except duckdb.CatalogException as exc:  # a warehouse built by an older dora has no classify_levels
        raise DoraError(f"the warehouse was built by an older version of dora ({exc}): run `dora build`") from exc
