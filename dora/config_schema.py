"""dora.toml's schema: every section and key, its type and what a valid value is, in one place.

`validate_file` checks a parsed file against it and converts it to the plain settings the layers
below take (MetricSettings, GitHubSettings, TimeBounds). Defaults are not repeated here: a key left out is None
and the settings' own default applies. Each field's description says what a value must be; any
invalid value is reported as "<key> must be <description>". Problems are raised as InvalidSettings,
each with its key path in the file, for dora/config.py to name the file, the key and its line.
"""
from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, ValidationError, ValidationInfo, create_model,
                      field_validator)

from core.errors import ConfigError
from ingest.eventlog import TimeBounds
from ingest.github import DEPLOYMENT_SOURCES, ClientSettings, GitHubSettings, RepoSettings, ServiceRule
from metrics.build import MetricSettings
from metrics.filters import NO_TEAM, Team
from metrics.goals import EXAMPLES, GOAL_METRICS, Goals, parse_goal
from metrics.registry import LEVEL_REPORTS

Loc = tuple[str | int, ...]  # a key's path in the file: ("github", "repositories", 0, "name")
Name = Annotated[str, StringConstraints(pattern=r"\S")]  # not empty, not only spaces
NAMES = 'a list of names, e.g. ["production"]'
REPOSITORY_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
TOKEN_HINT = " (tokens come only from GITHUB_TOKEN or GH_TOKEN)"


@dataclass(frozen=True)
class Problem:
    """One invalid setting: where it is and what is wrong; `{key}` in the message stands for the key."""

    loc: Loc
    message: str


class InvalidSettings(ConfigError):
    """The file's problems, in the order they were found."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class Section(BaseModel):
    """A table of dora.toml: unknown keys are errors, values are never coerced ("15" is not 15)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def setting(must_be: str, **constraints: Any) -> Any:
    """An optional key (None when left out) and what its value must be."""
    return Field(None, description=must_be, **constraints)


class WarehouseSection(Section):
    path: str | None = setting("a file path")


class MetricsSection(Section):
    production_environments: list[Name] | None = setting("a non-empty list of names", min_length=1)
    attribution_window_hours: int | None = setting("a whole number of hours ≥ 0", ge=0)
    timezone: str | None = setting("an IANA time zone name (e.g. Europe/Berlin)")
    ci_budget_minutes: float | None = setting("a number of minutes > 0 (e.g. 15)", gt=0, lt=10_000)
    ci_stages: list[Name] | None = setting("a non-empty list of stage (task) names", min_length=1)

    @field_validator("timezone")
    @classmethod
    def check_timezone(cls, value: str | None) -> str | None:
        try:
            if value is not None:
                ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
        return value


class EventlogSection(Section):
    paths: list[str] | None = setting("a list of file paths or globs")
    earliest: date | None = setting('a date, e.g. "2000-01-01" (earlier timestamps are rejected)')
    max_future_hours: float | None = setting(
        "a number of hours ≥ 0 (timestamps further after the moment of loading are rejected)", ge=0)

    @field_validator("earliest", mode="before")
    @classmethod
    def read_date(cls, value: Any) -> Any:
        # TOML has dates (earliest = 2000-01-01), but a quoted "2000-01-01" is what people write
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                raise ValueError(f'must be a date, e.g. "2000-01-01" (got {value!r})') from None
        if isinstance(value, datetime):
            raise ValueError(f'must be a date without a time, e.g. "2000-01-01" (got {value.isoformat()})')
        return value


class LevelsSection(Section):
    report: Literal[LEVEL_REPORTS] | None = setting(f"one of {', '.join(LEVEL_REPORTS)}")

    @field_validator("report", mode="before")
    @classmethod
    def read_year(cls, value: Any) -> Any:
        # `report = 2024` means the same as `report = "2024"`
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class RepositoryDefaults(Section):
    """The keys a repository may set, which [github] may also set once for all of them."""

    production_branch: Name | None = setting("a branch name")
    deployments: Literal[DEPLOYMENT_SOURCES] | None = setting(f"one of {', '.join(DEPLOYMENT_SOURCES)}")
    environments: list[Name] | None = setting(NAMES)
    workflows: list[Name] | None = setting(NAMES)
    include_prereleases: bool | None = setting("true or false")
    incident_labels: list[Name] | None = setting(NAMES)  # []: no issues read (the event log reports incidents)
    hotfix_labels: list[Name] | None = setting(NAMES)
    revert_incidents: bool | None = setting("true or false")


class ServiceTable(Section):
    """[[github.repositories.services]]: one service of a monorepo."""

    name: Name = Field(description="a name")
    paths: list[Name] = Field([], description=NAMES)
    environments: list[Name] = Field([], description=NAMES)
    workflows: list[Name] = Field([], description=NAMES)
    tag_prefix: str | None = setting("a string")


class RepositoryTable(RepositoryDefaults):
    """[[github.repositories]]: one repository, or the string `owner/name` for one with defaults only."""

    name: str = Field(description="`owner/name`, e.g. acme/payments")
    service: Name | None = setting("a name")
    services: list[ServiceTable] = Field([], description="a list of tables with a name each")

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        if not REPOSITORY_NAME.match(value):
            raise ValueError(f"{value!r} is not `owner/name`")
        return value


class GitHubSection(RepositoryDefaults):
    """[github]: the API client, the incremental reads, the repositories and their defaults."""

    base_url: str | None = setting("an http(s) URL, e.g. https://github.example.com/api/v3",
                                   pattern=r"^https?://[^/\s]+")
    timeout_seconds: float | None = setting("a number ≥ 0", ge=0)
    seconds_between_requests: float | None = setting("a number ≥ 0", ge=0)
    max_retries: int | None = setting("a whole number ≥ 0", ge=0)
    retry_backoff_seconds: float | None = setting("a number ≥ 0", ge=0)
    secondary_rate_wait_seconds: float | None = setting("a number ≥ 0", ge=0)
    max_rate_limit_wait_seconds: float | None = setting("a number ≥ 0", ge=0)
    page_size: int | None = setting("a whole number from 1 to 100 (GitHub's maximum)", ge=1, le=100)
    lookback_days: float | None = setting("a number of days ≥ 0", ge=0)
    checkpoint_pages: int | None = setting("a whole number ≥ 1", ge=1)
    repositories: list[RepositoryTable] = Field([], description="a list of `owner/name` strings or tables")

    @field_validator("repositories", mode="before")
    @classmethod
    def expand_short_form(cls, value: Any) -> Any:
        # repositories = ["acme/payments"] is short for one [[github.repositories]] table each
        return [{"name": v} if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("repositories")
    @classmethod
    def check_unique(cls, value: list[RepositoryTable]) -> list[RepositoryTable]:
        seen = set()
        for repo in value:
            if repo.name.lower() in seen:
                raise ValueError(f"lists {repo.name} twice")
            seen.add(repo.name.lower())
        return value


def _check_goal(cls, value: str | None, info: ValidationInfo) -> str | None:
    """A goal must parse (metrics.goals.parse_goal says what a valid one is)."""
    if value is not None:
        parse_goal(info.field_name, value)
    return value


# [goals] and [teams.goals]: one optional key per metric a goal may name (metrics.goals.GOAL_METRICS).
GoalsSection = create_model(
    "GoalsSection", __base__=Section,
    __validators__={"check_goal": field_validator(*GOAL_METRICS)(_check_goal)},
    **{m.id: (str | None, setting(f"a goal such as {EXAMPLES[m.unit]}")) for m in GOAL_METRICS.values()},
)


class TeamTable(Section):
    """[[teams]]: a team, the services it owns (directly or by their GitHub repositories), its goals."""

    name: Name = Field(description="a name")
    services: list[Name] = Field([], description=NAMES)
    repositories: list[str] = Field([], description="a list of `owner/name` repositories listed under [github]")
    goals: GoalsSection = Field(default_factory=GoalsSection, description="a table of goals")

    @field_validator("name")
    @classmethod
    def check_name(cls, value: str) -> str:
        if value.strip().lower() in ("all", NO_TEAM):
            raise ValueError(f"{value!r} is reserved (all: the organisation, {NO_TEAM}: services no team owns)")
        return value


class DoraToml(Section):
    """The whole file: its sections."""

    warehouse: WarehouseSection = Field(default_factory=WarehouseSection, description="a table")
    metrics: MetricsSection = Field(default_factory=MetricsSection, description="a table")
    eventlog: EventlogSection = Field(default_factory=EventlogSection, description="a table")
    levels: LevelsSection = Field(default_factory=LevelsSection, description="a table")
    github: GitHubSection = Field(default_factory=GitHubSection, description="a table")
    teams: list[TeamTable] = Field([], description="a list of tables ([[teams]]), each with a name and services")
    goals: GoalsSection = Field(default_factory=GoalsSection, description="a table of goals")

    @field_validator("teams")
    @classmethod
    def check_unique(cls, value: list[TeamTable]) -> list[TeamTable]:
        seen = set()
        for team in value:
            if team.name.strip() in seen:
                raise ValueError(f"lists the team {team.name.strip()!r} twice")
            seen.add(team.name.strip())
        return value


CLIENT_KEYS = tuple(k for k in GitHubSection.model_fields if k in ClientSettings.__dataclass_fields__)


# --------------------------------------------------------------------------------------------
# Validation errors as problems


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The table type a field holds (itself, in a list, or optional), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        model = _model_of(arg)
        if model:
            return model
    return None


def _walk(loc: Loc) -> tuple[type[BaseModel] | None, Any]:
    """The table a key path leads into (None: past the schema) and the field it ends on (None: the top)."""
    model: type[BaseModel] | None = DoraToml
    field = None
    for part in loc:
        if isinstance(part, int):
            continue
        if model is None or part not in model.model_fields:
            return None, None
        field = model.model_fields[part]
        model = _model_of(field.annotation)
    return model, field


def _describe(error: dict[str, Any]) -> Problem:
    """One pydantic error as a Problem in our words."""
    loc: Loc = tuple(error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        table, _ = _walk(loc[:-1])
        if len(loc) == 1:
            known = ", ".join(f"[{k}]" for k in DoraToml.model_fields)
            return Problem(loc, f"unknown section [{{key}}] (known: {known})")
        hint = TOKEN_HINT if "token" in str(loc[-1]).lower() else ""
        known = ", ".join(sorted(table.model_fields)) if table else ""
        return Problem(loc, f"unknown key {{key}}{hint} (known: {known})")
    _, field = _walk(loc)
    must_be = field.description if field is not None else "something else"
    if kind == "missing":
        return Problem(loc, f"{{key}} is missing: it must be {must_be}")
    if kind == "value_error":
        return Problem(loc, f"{{key}} {error['ctx']['error']}")
    value = error.get("input")
    got = f" (got {value!r})" if isinstance(value, (str, int, float)) and len(repr(value)) <= 60 else ""
    return Problem(loc, f"{{key}} must be {must_be}{got}")


def read_file(data: dict[str, Any]) -> DoraToml:
    """The parsed file as the schema's tables; every problem found at once as InvalidSettings."""
    try:
        return DoraToml.model_validate(data)
    except ValidationError as exc:
        raise InvalidSettings([_describe(e) for e in exc.errors(include_url=False)]) from None


# --------------------------------------------------------------------------------------------
# The tables as the settings the layers below take


def _given(table: BaseModel, keys: typing.Iterable[str]) -> dict[str, Any]:
    """The keys of `table` the file sets, lists as tuples (settings are immutable)."""
    values = {k: getattr(table, k) for k in keys}
    return {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if v is not None}


def to_metric_settings(doc: DoraToml) -> MetricSettings:
    """[metrics] and [levels] as MetricSettings."""
    levels = {"levels_report": doc.levels.report} if doc.levels.report else {}
    return MetricSettings(**_given(doc.metrics, MetricsSection.model_fields), **levels)


def to_time_bounds(doc: DoraToml) -> TimeBounds:
    """[eventlog] earliest and max_future_hours as the event log's TimeBounds."""
    return TimeBounds(**_given(doc.eventlog, ("earliest", "max_future_hours")))


def _strip(names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(n.strip() for n in names)


def to_repository(repo: RepositoryTable, github: GitHubSection, metrics: MetricSettings,
                  loc: Loc) -> RepoSettings:
    """One repository with the [github] defaults it does not override; `loc` is where it is in the file."""
    values = {**_given(github, RepositoryDefaults.model_fields), **_given(repo, RepositoryDefaults.model_fields)}
    for key in ("environments", "workflows", "incident_labels", "hotfix_labels"):
        if key in values:
            values[key] = _strip(values[key])
    if "production_branch" in values:
        values["production_branch"] = values["production_branch"].strip()
    services = tuple(ServiceRule(name=s.name.strip(), paths=_strip(tuple(s.paths)),
                                 environments=_strip(tuple(s.environments)), workflows=_strip(tuple(s.workflows)),
                                 tag_prefix=s.tag_prefix) for s in repo.services)
    environments = values.pop("environments", metrics.production_environments)
    if not environments and not services:
        where = loc + ("environments",) if repo.environments is not None else ("github", "environments")
        raise InvalidSettings([Problem(where, f"{{key}} must be {NAMES}: a repository without services "
                                              "needs a production environment")])
    settings = RepoSettings(name=repo.name, service=repo.service.strip() if repo.service else None,
                            environments=environments, services=services, **values)
    if settings.deployments == "workflow_runs" and not settings.fetched_workflows():
        raise InvalidSettings([Problem(loc, '{key}: deployments = "workflow_runs" needs workflows = ["deploy.yml"]')])
    return settings


def to_github_settings(doc: DoraToml, metrics: MetricSettings) -> GitHubSettings:
    """[github] as GitHubSettings; [github] without repositories is valid (nothing to read)."""
    github = doc.github
    client = _given(github, CLIENT_KEYS)
    if "base_url" in client:
        client["base_url"] = client["base_url"].rstrip("/")
    repositories = tuple(to_repository(r, github, metrics, ("github", "repositories", i))
                         for i, r in enumerate(github.repositories))
    return GitHubSettings(repositories=repositories, client=ClientSettings(**client),
                          **_given(github, ("lookback_days", "checkpoint_pages")))


def name_repository(name: str, github: GitHubSection, metrics: MetricSettings) -> RepoSettings:
    """A repository named on the command line, with the [github] defaults of the file."""
    try:
        repo = RepositoryTable.model_validate({"name": name})
    except ValidationError:
        raise ConfigError(f"repository {name!r} is not `owner/name`") from None
    return to_repository(repo, github, metrics, ("github",))


def _repository_services(repo: RepoSettings) -> tuple[str, ...]:
    """The services a repository's deployments are counted under (docs/github.md)."""
    return tuple(([repo.service] if repo.service else []) + [s.name for s in repo.services])


def to_teams(doc: DoraToml, github: GitHubSettings) -> tuple[Team, ...]:
    """[[teams]] as Teams: their services, and the services of their repositories as [github] maps them."""
    repositories = {r.name.lower(): r for r in github.repositories}
    teams, problems = [], []
    for i, table in enumerate(doc.teams):
        services = [s.strip() for s in table.services]
        for name in table.repositories:
            repo = repositories.get(name.strip().lower())
            if repo is None:
                problems.append(Problem(("teams", i, "repositories"),
                                        f"{{key}} names {name!r}, which is not under [[github.repositories]]: "
                                        "list it there, or name the team's services instead"))
                continue
            services += _repository_services(repo)
        if not table.services and not table.repositories:
            problems.append(Problem(("teams", i), "{key} owns no services: give services = [\"…\"] "
                                                  "or repositories = [\"owner/name\"]"))
        teams.append(Team(table.name.strip(), tuple(dict.fromkeys(services))))
    if problems:
        raise InvalidSettings(problems)
    return tuple(teams)


def _goals_of(table: BaseModel) -> tuple:
    return tuple(parse_goal(metric, text) for metric, text in table if text is not None)


def to_goals(doc: DoraToml) -> Goals:
    """[goals] and each team's [teams.goals] as Goals (already valid: the schema parsed them)."""
    return Goals(organisation=_goals_of(doc.goals),
                 teams={t.name.strip(): _goals_of(t.goals) for t in doc.teams if _goals_of(t.goals)})
