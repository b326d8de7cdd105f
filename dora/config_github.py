"""[github] in dora.toml → ingest.github.GitHubSettings, validated strictly (docs/github.md).

Every key a repository can have may also be set once under [github] as the default for all of
them. Tokens are never read from the file: only GITHUB_TOKEN or GH_TOKEN in the environment.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from core.errors import ConfigError
from ingest.github import DEPLOYMENT_SOURCES, ClientSettings, GitHubSettings, RepoSettings, ServiceRule
from metrics.build import MetricSettings

CLIENT_KEYS = {
    "base_url", "timeout_seconds", "seconds_between_requests", "max_retries", "retry_backoff_seconds",
    "secondary_rate_wait_seconds", "max_rate_limit_wait_seconds", "page_size",
}
REPO_DEFAULT_KEYS = {
    "production_branch", "deployments", "environments", "workflows", "include_prereleases",
    "incident_labels", "hotfix_labels", "revert_incidents",
}
REPO_KEYS = REPO_DEFAULT_KEYS | {"name", "service", "services"}
SERVICE_KEYS = {"name", "paths", "environments", "workflows", "tag_prefix"}
GITHUB_KEYS = CLIENT_KEYS | REPO_DEFAULT_KEYS | {"repositories", "lookback_days", "checkpoint_pages"}
_REPO_NAME = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def _where(path: Path | None) -> str:
    return f"{path}: " if path else ""


def _names(value: Any, key: str, path: Path | None, allow_empty: bool = False) -> tuple[str, ...]:
    if (not isinstance(value, list) or (not value and not allow_empty)
            or not all(isinstance(v, str) and v.strip() for v in value)):
        raise ConfigError(f"{_where(path)}{key} must be a list of names, e.g. [\"production\"]")
    return tuple(v.strip() for v in value)


def _number(value: Any, key: str, path: Path | None, low: float, integer: bool = False) -> Any:
    ok = isinstance(value, int if integer else (int, float)) and not isinstance(value, bool) and value >= low
    if not ok:
        kind = "a whole number" if integer else "a number"
        raise ConfigError(f"{_where(path)}github.{key} must be {kind} ≥ {low:g}")
    return value


def _unknown(table: Mapping[str, Any], known: set[str], what: str, path: Path | None) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        hint = " (tokens come only from GITHUB_TOKEN or GH_TOKEN)" if "token" in unknown[0] else ""
        raise ConfigError(f"{_where(path)}unknown key {what}.{unknown[0]}{hint} (known: {', '.join(sorted(known))})")


def parse_service(table: Any, repo: str, path: Path | None) -> ServiceRule:
    """One [[github.repositories.services]] table of a monorepo."""
    what = f"github.repositories[{repo}].services"
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(path)}{what} must be a list of tables")
    _unknown(table, SERVICE_KEYS, what, path)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ConfigError(f"{_where(path)}{what}: every service needs a name")
    tag_prefix = table.get("tag_prefix")
    if tag_prefix is not None and not isinstance(tag_prefix, str):
        raise ConfigError(f"{_where(path)}{what}.tag_prefix must be a string")
    return ServiceRule(
        name=name.strip(),
        paths=_names(table.get("paths", []), f"{what}.paths", path, allow_empty=True),
        environments=_names(table.get("environments", []), f"{what}.environments", path, allow_empty=True),
        workflows=_names(table.get("workflows", []), f"{what}.workflows", path, allow_empty=True),
        tag_prefix=tag_prefix,
    )


def parse_repository(entry: Any, defaults: Mapping[str, Any], path: Path | None,
                     metrics: MetricSettings) -> RepoSettings:
    """One repository: a string `owner/name`, or a table with `name` and any repository key."""
    table = {"name": entry} if isinstance(entry, str) else entry
    if not isinstance(table, dict):
        raise ConfigError(f"{_where(path)}github.repositories must list `owner/name` strings or tables")
    name = table.get("name")
    if not isinstance(name, str) or not _REPO_NAME.match(name):
        raise ConfigError(f"{_where(path)}github.repositories: {name!r} is not `owner/name`")
    what = f"github.repositories[{name}]"
    _unknown(table, REPO_KEYS, what, path)
    merged = {**defaults, **table}
    deployments = merged.get("deployments", "deployments")
    if deployments not in DEPLOYMENT_SOURCES:
        raise ConfigError(f"{_where(path)}{what}.deployments must be one of {', '.join(DEPLOYMENT_SOURCES)}")
    services = tuple(parse_service(s, name, path) for s in merged.get("services", []) or [])
    workflows = _names(merged.get("workflows", []), f"{what}.workflows", path, allow_empty=True)
    if deployments == "workflow_runs" and not workflows and not any(s.workflows for s in services):
        raise ConfigError(f"{_where(path)}{what}: deployments = \"workflow_runs\" needs workflows = [\"deploy.yml\"]")
    service = table.get("service")
    if service is not None and (not isinstance(service, str) or not service.strip()):
        raise ConfigError(f"{_where(path)}{what}.service must be a name")
    branch = merged.get("production_branch", "main")
    if not isinstance(branch, str) or not branch.strip():
        raise ConfigError(f"{_where(path)}{what}.production_branch must be a branch name")
    flags = {}
    for key in ("include_prereleases", "revert_incidents"):
        value = merged.get(key, False)
        if not isinstance(value, bool):
            raise ConfigError(f"{_where(path)}{what}.{key} must be true or false")
        flags[key] = value
    return RepoSettings(
        name=name,
        # a monorepo's deployments and incidents name their service; elsewhere the repository is one
        service=service or (None if services else name.split("/", 1)[1]),
        production_branch=branch.strip(),
        deployments=deployments,
        environments=_names(merged.get("environments", list(metrics.production_environments)),
                            f"{what}.environments", path, allow_empty=bool(services)),
        workflows=workflows,
        # [] reads no issues: for a service whose incidents the event log already reports
        incident_labels=_names(merged.get("incident_labels", ["incident"]), f"{what}.incident_labels", path,
                               allow_empty=True),
        hotfix_labels=_names(merged.get("hotfix_labels", ["hotfix"]), f"{what}.hotfix_labels", path,
                             allow_empty=True),
        services=services,
        **flags,
    )


def parse_github_settings(table: Mapping[str, Any], path: Path | None, metrics: MetricSettings) -> GitHubSettings:
    """[github] as GitHubSettings; [github] without repositories is valid (nothing to read)."""
    client_values: dict[str, Any] = {}
    for key in CLIENT_KEYS - {"base_url"}:
        if key in table:
            integer = key in ("max_retries", "page_size")
            client_values[key] = _number(table[key], key, path, 1 if key == "page_size" else 0, integer)
    if "page_size" in client_values and client_values["page_size"] > 100:
        raise ConfigError(f"{_where(path)}github.page_size must be at most 100 (GitHub's maximum)")
    base_url = table.get("base_url", ClientSettings.base_url)
    if not isinstance(base_url, str) or not re.match(r"^https?://[^/\s]+", base_url):
        raise ConfigError(f"{_where(path)}github.base_url must be an http(s) URL, e.g. https://github.example.com/api/v3")
    client = ClientSettings(base_url=base_url.rstrip("/"), **client_values)
    defaults = {k: table[k] for k in REPO_DEFAULT_KEYS if k in table}
    repos = table.get("repositories", [])
    if not isinstance(repos, list):
        raise ConfigError(f"{_where(path)}github.repositories must be a list")
    parsed = tuple(parse_repository(r, defaults, path, metrics) for r in repos)
    seen = set()
    for repo in parsed:
        if repo.name.lower() in seen:
            raise ConfigError(f"{_where(path)}github.repositories lists {repo.name} twice")
        seen.add(repo.name.lower())
    lookback = _number(table.get("lookback_days", 3), "lookback_days", path, 0)
    checkpoint = _number(table.get("checkpoint_pages", 10), "checkpoint_pages", path, 1, integer=True)
    return GitHubSettings(repositories=parsed, client=client, lookback_days=float(lookback),
                          checkpoint_pages=checkpoint)
