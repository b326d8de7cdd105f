"""What a reader asks for, and the rules every reader applies to it: grains and their periods, the
environment as the facts name it, the services to list.

Every reader module (export, compare, levels, explain, insight_tables, survey) imports these from
here; nothing here imports them back. The SQL models use the same rules as stored macros
(metrics/sql/macro_*.sql).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import GRAINS, MetricSettings

__all__ = ["GRAINS", "NO_TEAM", "Filters", "Team", "check_grain", "check_service", "choose_services", "describe_empty_scope",
           "environment_group", "list_environments", "list_services", "period_days", "period_start_of",
           "team_services"]


# The group of the services no configured team owns: listed under this name, never dropped.
NO_TEAM = "no team"


@dataclass(frozen=True)
class Team:
    """A team of dora.toml ([[teams]]): its name and the services it owns (repositories resolved)."""

    name: str
    services: tuple[str, ...]


@dataclass(frozen=True)
class Filters:
    """What a reader asked for: one grain, an optional date range, services or a team, one environment.

    `teams` are the configured teams (the CLI passes them from dora.toml); `team` names one of them
    (or NO_TEAM), `by_team` asks for one row per team. Team figures are computed from the facts of
    the team's services (metrics.teams), never by adding service rows up.
    """

    grain: str = "month"
    from_date: date | None = None
    to_date: date | None = None
    service: str | None = None
    by_service: bool = False
    environment: str = "production"
    team: str | None = None
    by_team: bool = False
    teams: tuple[Team, ...] = ()


def check_grain(grain: str) -> None:
    """An error unless `grain` is one of GRAINS."""
    if grain not in GRAINS:
        raise DoraError(f"grain must be one of {', '.join(GRAINS)}")


def period_start_of(day: date, grain: str) -> date:
    """The first day of the period of `grain` that holds `day` (weeks start on Monday); the SQL
    macro period_start_of is the same rule."""
    if grain == "day":
        return day
    if grain == "week":
        return date.fromordinal(day.toordinal() - day.weekday())
    if grain == "month":
        return day.replace(day=1)
    return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)


def period_days(period_start: date, grain: str) -> int:
    """Calendar days in the period (deploys per day divides by these); the SQL macro period_days."""
    if grain in ("day", "week"):
        return 1 if grain == "day" else 7
    months = 1 if grain == "month" else 3
    month = period_start.month - 1 + months
    end = date(period_start.year + month // 12, month % 12 + 1, 1)
    return (end - period_start).days


def environment_group(name: str, settings: MetricSettings) -> str:
    """The environment as the facts name it: every production spelling is 'production' (the SQL
    macro environment_group)."""
    name = name.strip().lower()
    return "production" if name in settings.production_environments else name


def list_services(con: duckdb.DuckDBPyConnection, environment: str) -> list[str]:
    """Services with any deployment, change or incident in the environment."""
    return [r[0] for r in run_sql(con, "metrics", "list_services", {"environment": environment}).fetchall()]


def list_window_scopes(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str | None]:
    """The scopes a window comparison runs for: --service, every service (--by service), or the
    organisation (None). `filters.environment` is already normalised by the caller."""
    if filters.service:
        return [filters.service]
    if filters.by_service:
        return list(list_services(con, filters.environment))
    return [None]


def list_environments(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Environments with any deployment, change or incident, by name."""
    return [r[0] for r in run_sql(con, "metrics", "list_environments").fetchall()]


def check_service(con: duckdb.DuckDBPyConnection, service: str, environment: str) -> None:
    """An error naming the services that have data, unless `service` has data in `environment`.

    An environment without any data has no services to check against: that is an empty scope,
    which readers report with describe_empty_scope instead.
    """
    known = list_services(con, environment)
    if known and service not in known:
        raise DoraError(f"no data for service {service!r} in {environment}; known: {', '.join(known[:10])}")


def team_services(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str]:
    """The services of `filters.team` that have data in the environment (NO_TEAM: those no team
    owns); an error naming the teams there are when it is not one of them."""
    known = list_services(con, filters.environment)
    owned = {s for t in filters.teams for s in t.services}
    if filters.team == NO_TEAM:
        return [s for s in known if s not in owned]
    team = next((t for t in filters.teams if t.name == filters.team), None)
    if team is None:
        names = ", ".join([t.name for t in filters.teams] + [NO_TEAM]) if filters.teams else "none ([[teams]] in dora.toml)"
        raise DoraError(f"no team {filters.team!r}; teams: {names}")
    return [s for s in known if s in team.services]


def choose_services(con: duckdb.DuckDBPyConnection, filters: Filters) -> list[str] | None:
    """The services to list, or None for the organisation as a whole ('all').

    With a team: its services one by one when `by_service` is set; a reader that cannot compute a
    team's own figures is refused rather than shown one service or a sum (medians do not add up).
    """
    if filters.team and filters.by_service:
        return team_services(con, filters)
    if filters.team or filters.by_team:
        raise DoraError("this table has no team figures (medians do not add up across services): "
                        "try --team NAME --by service for the team's services one by one, or the summary")
    if not filters.service and not filters.by_service:
        return None
    if filters.service:
        check_service(con, filters.service, filters.environment)  # already normalised by the caller
        return [filters.service]
    return list_services(con, filters.environment)


def describe_empty_scope(con: duckdb.DuckDBPyConnection, environment: str) -> str:
    """One line for a reader that found no rows: nothing stored at all, an environment without data
    (naming the environments that have some), or filters outside the days the data covers."""
    known = list_environments(con)
    if not known:
        return ("No data: no deployment, change or incident is stored in any environment "
                "(load some: dora ingest events FILE).")
    if environment not in known:
        return f"No data for environment {environment!r}; environments with data: {', '.join(known)}."
    first_day, last_day = run_sql(con, "metrics", "read_coverage").fetchall()[0]
    return f"No rows for these filters in {environment}: the data covers {first_day} to {last_day}."
