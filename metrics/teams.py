"""Teams: the figures of a team, computed when read from the facts of the team's services.

A team ([[teams]] in dora.toml, metrics.filters.Team) owns services. Its figures are not a sum or
an average of its services' rows — medians do not add up — but the metrics of all its services'
deployments, changes and incidents together (metrics/sql/team_summary.sql, the one home of team
figures). A service no team owns is listed under NO_TEAM ("no team"), never dropped. Nothing is
stored: the teams are bound parameters, so changing them in dora.toml needs no rebuild.
"""
from __future__ import annotations

from dataclasses import replace

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import DEFINITIONS_VERSION, MetricSettings
from metrics.filters import NO_TEAM, Filters, Team, check_grain, environment_group, list_services

__all__ = ["NO_TEAM", "Team", "list_team_names", "query_team_figures", "query_team_summary", "team_mapping",
           "wants_team_figures"]


def team_mapping(teams: tuple[Team, ...]) -> list[dict[str, str]]:
    """The teams as the SQL's bound mapping: one {service, team} per service a team owns."""
    return [{"service": service, "team": team.name} for team in teams for service in team.services]


def wants_team_figures(filters: Filters) -> bool:
    """True when the filters ask for team rows (one team, or every team) rather than services."""
    return filters.by_team or (filters.team is not None and not filters.by_service)


def list_team_names(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str]:
    """The teams a reader lists: the one asked for, else every configured team and NO_TEAM when
    some service with data in the environment belongs to none; an error for an unknown team."""
    names = [t.name for t in filters.teams]
    if not names:
        raise DoraError("no teams are configured: add [[teams]] with a name and its services to dora.toml "
                        "(docs/cli.md, \"Teams\")")
    if filters.team is not None:
        if filters.team not in names + [NO_TEAM]:
            raise DoraError(f"no team {filters.team!r}; teams: {', '.join(names + [NO_TEAM])}")
        return [filters.team]
    owned = {s for t in filters.teams for s in t.services}
    unowned = [s for s in list_services(con, filters.environment) if s not in owned]
    return names + ([NO_TEAM] if unowned else [])


def query_team_figures(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """The summary per period and team (team rows, when the filters ask for teams) or of the whole
    organisation (team 'all'), from the same SQL: the export's columns and `team`."""
    check_grain(filters.grain)
    filters = replace(filters, environment=environment_group(filters.environment, settings))
    teams = wants_team_figures(filters)
    return run_sql(con, "metrics", "team_summary", {
        "grain": filters.grain,
        "from_date": filters.from_date,
        "to_date": filters.to_date,
        "environment": filters.environment,
        "mapping": team_mapping(filters.teams) if teams else None,
        "groups": list_team_names(con, filters) if teams else ["all"],
        "timezone": settings.timezone,
        "definitions_version": DEFINITIONS_VERSION,
    }).df()


def query_team_summary(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings) -> pd.DataFrame:
    """`dora export --by team` / `--team NAME`: one row per period and team, contract §3 columns
    first (service 'all': every service of the team), then `team` and the extra columns."""
    if filters.service:
        raise DoraError("choose a service or a team, not both")
    return query_team_figures(con, filters, settings)
