"""Write GitHub pages into the warehouse; the caller owns the transaction.

Raw payloads are replaced by key in bulk and staged by the SQL models in
ingest/sql/stg_github__*.sql. GitHub data changes after the fact (PR edits, late deployment
statuses), so a key that comes again replaces its raw row and its staged rows, unlike the
append-only event log. Also here: the reads an incremental pass needs from what is stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import duckdb
import pyarrow as pa

from core.sql import read_sql, run_sql
from ingest.github.link import DeploymentRef, link_shipped_commits, match_services
from ingest.github.normalise import Record, Reject
from ingest.github.settings import ORIGIN, RepoSettings
from ingest.warehouse import Run, register_table

# The staging model of each stream that stages anything (commits are only kept raw, for the linker).
STAGING_MODELS = {
    "pulls": "stg_github__pulls",
    "deployments": "stg_github__deployments",
    "releases": "stg_github__releases",
    "workflow_runs": "stg_github__workflow_runs",
    "issues": "stg_github__issues",
}
# The raw event type of each stream that can leave an item unfinished (github_pending_since.sql).
PENDING_EVENT_TYPES = {
    "deployments": "github.deployment",
    "workflow_runs": "github.workflow_run",
    "releases": "github.release",
}
# How the staging models spell a deployment id (`<source>:<kind>:<GitHub's id>`), per deployment source.
DEPLOYMENT_ID_KINDS = {"deployments": "deployment", "workflow_runs": "workflow_run", "releases": "release"}
# How long an unfinished deployment, run or draft release keeps the passes reaching back to it.
PENDING_MAX_DAYS = 30


@dataclass
class SaveCounts:
    """What one save did."""

    records: int = 0
    loaded: int = 0      # keys not stored before
    replaced: int = 0    # keys stored before: replaced by the current version
    rejected: int = 0
    reject_samples: list[tuple[str, int | None, str]] = field(default_factory=list)


def staging_params(repo: RepoSettings, environment: str) -> dict[str, Any]:
    """The values the stg_github__* models bind."""
    return {
        "source": repo.source,
        "repository": repo.name,
        "service": repo.service,
        "environment": environment,
        # a deployment named by number in an issue is one of the repository's own (stg_github__issues)
        "deployment_id_prefix": f"{repo.source}:{DEPLOYMENT_ID_KINDS[repo.deployments]}:",
        "incident_labels": [label.lower() for label in repo.incident_labels],
        "revert_incidents": repo.revert_incidents,
        "include_prereleases": repo.include_prereleases,
        "service_names": [s.name for s in repo.services],
        "env_matches": [e.lower() for s in repo.services for e in s.environments],
        "env_services": [s.name for s in repo.services for _ in s.environments],
        "workflow_matches": [w for s in repo.services for w in s.workflows],
        "workflow_services": [s.name for s in repo.services for _ in s.workflows],
        "tag_matches": [s.tag_prefix for s in repo.services if s.tag_prefix],
        "tag_services": [s.name for s in repo.services if s.tag_prefix],
    }


def save_records(
    con: duckdb.DuckDBPyConnection, repo: RepoSettings, stream: str, records: list[Record],
    rejects: list[Reject], run: Run, environment: str,
) -> SaveCounts:
    """Store one page: replace raw rows and their staged rows by key, in bulk; keep the rejects."""
    counts = SaveCounts(records=len(records) + len(rejects), rejected=len(rejects))
    reject_file = f"{repo.source}/{stream}"
    if rejects:
        table = pa.table({"raw": [r.raw for r in rejects], "reason": [r.reason for r in rejects]})
        with register_table(con, "gh_rejects", table):
            run_sql(con, "ingest", "github_insert_rejects",
                    {"run_id": run.run_id, "origin": ORIGIN, "reject_file": reject_file})
        counts.reject_samples = [(reject_file, None, r.reason) for r in rejects[:20]]
    if not records:
        return counts
    batch = pa.table({
        "source": pa.array([repo.source] * len(records), pa.string()),
        "event_id": pa.array([r.event_id for r in records], pa.string()),
        "event_type": pa.array([r.event_type for r in records], pa.string()),
        "occurred_at": pa.array([r.occurred_at for r in records], pa.timestamp("us", tz="UTC")),
        "payload": pa.array([r.payload for r in records], pa.string()),
        # what an issue's text names as its cause, put in the repository's terms by stg_github__issues
        "cause_kind": pa.array([r.cause.kind if r.cause else None for r in records], pa.string()),
        "cause_ref": pa.array([r.cause.ref if r.cause else None for r in records], pa.string()),
        "cause_rule": pa.array([r.cause.rule if r.cause else None for r in records], pa.string()),
    })
    with register_table(con, "gh_batch", batch):
        run_sql(con, "ingest", "github_delete_staged")
        counts.replaced = run_sql(con, "ingest", "github_delete_raw").fetchall()[0][0]
        counts.loaded = len(records) - counts.replaced
        run_sql(con, "ingest", "github_insert_raw", {"origin": ORIGIN, "run_id": run.run_id})
        model = STAGING_MODELS.get(stream.partition(":")[0])
        if model:
            run_sql(con, "ingest", model, {**staging_params(repo, environment), "run_id": run.run_id})
    return counts


def relink_repository(con: duckdb.DuckDBPyConnection, repo: RepoSettings) -> None:
    """Recompute what each of the repository's deployments shipped, and whether it shipped a hotfix.

    Runs after every stored page that can change it (history, PRs, deployments): a late deployment
    status or a newly read commit changes its neighbours too.
    """
    params = {"source": repo.source}
    first_parents = dict(run_sql(con, "ingest", "github_first_parents", params).fetchall())
    deployments = [DeploymentRef(*row)
                   for row in run_sql(con, "ingest", "github_staged_deployments", params).fetchall()]
    prs = run_sql(con, "ingest", "github_pull_commits", params).fetchall()
    hotfix_labels = {label.lower() for label in repo.hotfix_labels}
    hotfix = frozenset(sha for sha, _, labels in prs
                       if sha and any((label or "").lower() in hotfix_labels for label in labels or []))
    pr_services = ({sha: match_services(paths, repo.services) for sha, paths, _ in prs if sha}
                   if repo.services else None)
    links = link_shipped_commits(first_parents, deployments, pr_services, hotfix)
    if not links:
        return
    table = pa.table({
        "event_id": pa.array(list(links), pa.string()),
        "shipped": pa.array([v[0] for v in links.values()], pa.list_(pa.string())),
        "hotfix": pa.array([v[1] for v in links.values()], pa.bool_()),
    })
    with register_table(con, "gh_links", table):
        run_sql(con, "ingest", "github_update_shipped", params)


def ensure_sync_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the watermark and file-offset tables if this warehouse has none yet."""
    con.execute(read_sql("ingest", "sync_state"))


def pending_since(con: duckdb.DuckDBPyConnection, repo: RepoSettings, stream: str,
                  watermark: datetime | None) -> datetime | None:
    """The creation time of the oldest stored item of `stream` that has not finished yet (at most
    PENDING_MAX_DAYS before the watermark): an incremental pass reads back to it."""
    kind, _, workflow = stream.partition(":")
    event_type = PENDING_EVENT_TYPES.get(kind)
    if event_type is None or watermark is None:
        return None
    rows = run_sql(con, "ingest", "github_pending_since", {
        "source": repo.source, "event_type": event_type, "workflow": workflow or None,
        "since": watermark - timedelta(days=PENDING_MAX_DAYS),
    }).fetchall()
    return rows[0][0]
