"""GitHub source settings: which repositories to read, their services, how deployments look, and
how to talk to the API. Plain values: dora/config_github.py parses them from dora.toml.
"""
from __future__ import annotations

from dataclasses import dataclass, field

ORIGIN = "github"
DEPLOYMENT_SOURCES = ("deployments", "workflow_runs", "releases")


@dataclass(frozen=True)
class ServiceRule:
    """A service of a monorepo: the paths its pull requests touch and how its deployments look."""

    name: str
    paths: tuple[str, ...] = ()
    environments: tuple[str, ...] = ()   # GitHub Deployments environments that deploy it
    workflows: tuple[str, ...] = ()      # Actions workflow files that deploy it
    tag_prefix: str | None = None        # releases whose tag starts with this deploy it


@dataclass(frozen=True)
class RepoSettings:
    """One repository: its service(s), production branch and how deployments are recognised."""

    name: str                                  # owner/name
    service: str | None = None                 # default: the repository's name (None in a monorepo)
    production_branch: str = "main"
    deployments: str = "deployments"           # deployments | workflow_runs | releases
    environments: tuple[str, ...] = ("production",)
    workflows: tuple[str, ...] = ()
    include_prereleases: bool = False
    incident_labels: tuple[str, ...] = ("incident",)
    hotfix_labels: tuple[str, ...] = ("hotfix",)
    revert_incidents: bool = False
    services: tuple[ServiceRule, ...] = ()

    def __post_init__(self) -> None:
        # a repository is one service named after it, unless it is a monorepo of several
        if self.service is None and not self.services:
            object.__setattr__(self, "service", self.repo)

    @property
    def owner(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def repo(self) -> str:
        return self.name.split("/", 1)[1]

    @property
    def source(self) -> str:
        return f"{ORIGIN}:{self.name}"

    def fetched_environments(self) -> list[str]:
        names = list(self.environments) + [e for s in self.services for e in s.environments]
        return sorted(set(names))

    def fetched_workflows(self) -> list[str]:
        names = list(self.workflows) + [w for s in self.services for w in s.workflows]
        return sorted(set(names))

    def streams(self) -> list[str]:
        """The streams read for this repository, in the order they are read.

        History and pull requests come first so deployments and incidents can be linked to them
        in the same run.
        """
        streams = ["commits", "pulls"]
        if self.deployments == "deployments":
            streams.append("deployments")
        elif self.deployments == "releases":
            streams.append("releases")
        else:
            streams += [f"workflow_runs:{w}" for w in self.fetched_workflows()]
        streams += [f"issues:{label}" for label in self.incident_labels]
        return streams


@dataclass(frozen=True)
class ClientSettings:
    """How to talk to the API; tests use no waits at all."""

    base_url: str = "https://api.github.com"
    timeout_seconds: float = 30
    seconds_between_requests: float = 0.25
    max_retries: int = 5
    retry_backoff_seconds: float = 1.0
    secondary_rate_wait_seconds: float = 60
    max_rate_limit_wait_seconds: float = 900
    page_size: int = 100


@dataclass(frozen=True)
class GitHubSettings:
    """[github] in dora.toml."""

    repositories: tuple[RepoSettings, ...] = ()
    client: ClientSettings = field(default_factory=ClientSettings)
    lookback_days: float = 3
    checkpoint_pages: int = 10
