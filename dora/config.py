"""dora.toml: where the warehouse is, how the metrics are defined, what the nightly job reads.

Precedence for every setting: command-line flag > environment variable > dora.toml > default.
Only the CLI reads this module; the layers below take plain arguments. Secrets (GitHub tokens) are
never read from the file: only from the environment.
"""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError
from dora.config_github import GITHUB_KEYS, REPO_DEFAULT_KEYS, parse_github_settings, parse_repository
from ingest.github import GitHubSettings, RepoSettings
from metrics.build import MetricSettings

DEFAULT_CONFIG = Path("dora.toml")
DEFAULT_DB = Path("data/dora.duckdb")

_KNOWN_KEYS = {
    "warehouse": {"path"},
    "metrics": {"production_environments", "attribution_window_hours", "timezone", "ci_budget_minutes",
                "ci_stages"},
    "eventlog": {"paths"},
    "levels": {"report"},
    "github": GITHUB_KEYS,
}
LEVELS_REPORTS = ("2023", "2024")  # the DORA reports whose level tables metrics/sql/metric_levels.sql has


@dataclass
class Config:
    """The settings in force, with the file they came from (None: defaults only)."""

    source: Path | None
    db_path: Path
    metrics: MetricSettings
    eventlog_paths: list[str]
    sections: dict[str, Any] = field(default_factory=dict)  # every table of the file, for other parts
    github: GitHubSettings = field(default_factory=GitHubSettings)  # [github]: docs/github.md

    def name_repository(self, name: str) -> RepoSettings:
        """A repository named on the command line, with the [github] defaults of the file."""
        defaults = {k: v for k, v in self.sections.get("github", {}).items() if k in REPO_DEFAULT_KEYS}
        return parse_repository(name, defaults, self.source, self.metrics)


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning its errors into one message that names the file."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def check_keys(data: Mapping[str, Any], path: Path) -> None:
    """Unknown keys in the sections this module owns are typos: say so rather than ignore them."""
    for section, keys in _KNOWN_KEYS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        unknown = sorted(set(table) - keys)
        if unknown:
            raise ConfigError(f"{path}: unknown key {section}.{unknown[0]} (known: {', '.join(sorted(keys))})")


def parse_metric_settings(table: Mapping[str, Any], path: Path | None) -> MetricSettings:
    """[metrics] as MetricSettings, validated."""
    where = f"{path}: " if path else ""
    envs = table.get("production_environments", ["production", "prod"])
    if not isinstance(envs, list) or not envs or not all(isinstance(e, str) and e.strip() for e in envs):
        raise ConfigError(f"{where}metrics.production_environments must be a non-empty list of names")
    window = table.get("attribution_window_hours", 24)
    if not isinstance(window, int) or isinstance(window, bool) or window < 0:
        raise ConfigError(f"{where}metrics.attribution_window_hours must be a whole number of hours ≥ 0")
    tz = table.get("timezone", "UTC")
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}metrics.timezone {tz!r} is not an IANA time zone (e.g. Europe/Berlin)") from exc
    budget = table.get("ci_budget_minutes", 15)
    if not isinstance(budget, (int, float)) or isinstance(budget, bool) or not 0 < budget < 10_000:
        raise ConfigError(f"{where}metrics.ci_budget_minutes must be a number of minutes > 0 (e.g. 15)")
    stages = table.get("ci_stages", ["build", "test"])
    if not isinstance(stages, list) or not stages or not all(isinstance(x, str) and x.strip() for x in stages):
        raise ConfigError(f"{where}metrics.ci_stages must be a non-empty list of stage (task) names")
    return MetricSettings(tuple(envs), window, tz, ci_budget_minutes=float(budget), ci_stages=tuple(stages))


def parse_levels_report(table: Mapping[str, Any], path: Path | None) -> str:
    """[levels] report: which DORA report's level table classifies the metrics (default 2024)."""
    report = table.get("report", "2024")
    if isinstance(report, int) and not isinstance(report, bool):
        report = str(report)  # `report = 2024` means the same as `report = "2024"`
    if report not in LEVELS_REPORTS:
        where = f"{path}: " if path else ""
        raise ConfigError(f"{where}levels.report must be one of {', '.join(LEVELS_REPORTS)} (got {report!r})")
    return report


def load_config(
    config_path: str | Path | None = None, db_flag: str | Path | None = None,
    env: Mapping[str, str] = os.environ,
) -> Config:
    """Settings from the flag, the environment (DORA_CONFIG, DORA_DB) and the file, in that order."""
    path = Path(config_path or env.get("DORA_CONFIG") or DEFAULT_CONFIG)
    explicit = bool(config_path or env.get("DORA_CONFIG"))
    data: dict[str, Any] = {}
    if explicit or path.exists():
        data = read_toml(path)
        check_keys(data, path)
    else:
        path = None
    file_db = data.get("warehouse", {}).get("path")
    db_path = Path(db_flag or env.get("DORA_DB") or file_db or DEFAULT_DB)
    paths = data.get("eventlog", {}).get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ConfigError(f"{path}: eventlog.paths must be a list of file paths or globs")
    metric_settings = replace(parse_metric_settings(data.get("metrics", {}), path),
                              levels_report=parse_levels_report(data.get("levels", {}), path))
    return Config(
        source=path,
        db_path=db_path,
        metrics=metric_settings,
        eventlog_paths=paths,
        sections=data,
        github=parse_github_settings(data.get("github", {}), path, metric_settings),
    )
