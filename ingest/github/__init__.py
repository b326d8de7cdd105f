"""GitHub source: merged pull requests, deployments, incident issues and the production branch's
history, through PyGithub, into raw_events, rejects and stg_events (docs/github.md).

One module per kind of work, as in every source:
- `settings`: the plain values dora.toml configures;
- `fetch`: only talks HTTP (the GraphQL queries are `queries/*.graphql`) and yields pages of dicts
  exactly as GitHub sent them;
- `normalise`: no I/O; checks payloads (a malformed one becomes a reject with its reason) and keys
  them as raw events;
- `link`: no I/O; which commits each deployment shipped, from the production branch's history;
- `save`: writes the warehouse (raw rows replaced by key, staged by ingest/sql/stg_github__*.sql).

The names other layers use are importable from `ingest.github` itself.
"""
from ingest.github.link import DeploymentRef, link_shipped_commits, match_services
from ingest.github.normalise import Record, Reject, normalise_page
from ingest.github.save import (
    SaveCounts, ensure_sync_tables, pending_since, relink_repository, save_records,
)
from ingest.github.settings import (
    DEPLOYMENT_SOURCES, ORIGIN, ClientSettings, GitHubSettings, RepoSettings, ServiceRule,
)

# fetch's names load when first used: it imports PyGithub and requests (a quarter of a second), and
# every `dora` command imports this package for the settings dora.toml's schema is made of.
FETCH_NAMES = ("GitHubApi", "Page", "RepositoryNotFound", "fetch_stream", "is_rate_limit_error", "lookback_floor")


def __getattr__(name: str) -> object:
    if name not in FETCH_NAMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ingest.github import fetch  # noqa: PLC0415 (loaded on first use, above)

    return getattr(fetch, name)


__all__ = [
    "DEPLOYMENT_SOURCES", "ORIGIN", "ClientSettings", "DeploymentRef", "GitHubApi", "GitHubSettings", "Page",
    "Record", "Reject", "RepoSettings", "RepositoryNotFound", "SaveCounts", "ServiceRule", "ensure_sync_tables",
    "fetch_stream", "is_rate_limit_error", "link_shipped_commits", "lookback_floor", "match_services",
    "normalise_page", "pending_since", "relink_repository", "save_records",
]
