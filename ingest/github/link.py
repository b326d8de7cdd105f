"""Which commits each deployment shipped, from the production branch's first-parent history: pure
functions, no I/O (docs/github.md, "Which PRs a deployment shipped").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.github.settings import ServiceRule


def match_services(paths: list[str] | None, rules: tuple[ServiceRule, ...]) -> frozenset[str]:
    """The monorepo services whose path prefixes any of `paths` falls under."""
    found = set()
    for path in paths or []:
        for rule in rules:
            if any(path.startswith(prefix) for prefix in rule.paths):
                found.add(rule.name)
    return frozenset(found)


@dataclass(frozen=True)
class DeploymentRef:
    """A staged production deployment, as the linker sees it."""

    event_id: str
    service: str
    commit_sha: str | None
    finished_at: datetime
    deployment_id: str


def link_shipped_commits(
    first_parents: dict[str, str | None],
    deployments: list[DeploymentRef],
    pr_services: dict[str, frozenset[str]] | None = None,
    hotfix_commits: frozenset[str] = frozenset(),
) -> dict[str, tuple[list[str] | None, bool]]:
    """For each deployment: (commits it shipped, whether it shipped a hotfix) — no I/O.

    A deployment ships the production branch's first-parent commits after its service's previous
    production deployment's commit, up to and including its own. GitHub's merge_commit_sha is on
    that chain for all three merge methods (the merge commit, the squash commit, or the last
    rebased commit), so fct_deployment_changes links each PR by it. The first deployment of a
    service ships nothing ([]); one redeploying an ancestor (a rollback) ships nothing; one whose
    commit, or whose predecessor's, is not on the known chain gets None (unknown: the merge-window
    rule applies). In a monorepo (`pr_services` given), a PR's merge commit is shipped only by
    deployments of the services its files touch.
    """
    depth: dict[str, int] = {}

    def depth_of(sha: str) -> int:
        # iterative: histories are far deeper than Python's recursion limit
        chain = []
        node: str | None = sha
        while node is not None and node in first_parents and node not in depth:
            chain.append(node)
            node = first_parents[node]
        base = depth.get(node, -1) if node is not None else -1
        for n in reversed(chain):
            base += 1
            depth[n] = base
        return depth[sha]

    def walk(start: str, steps: int) -> list[str]:
        out = [start]
        for _ in range(steps):
            parent = first_parents.get(out[-1])
            if parent is None:
                break
            out.append(parent)
        return out

    result: dict[str, tuple[list[str] | None, bool]] = {}
    by_service: dict[str, list[DeploymentRef]] = {}
    for d in deployments:
        by_service.setdefault(d.service, []).append(d)
    for service, deps in by_service.items():
        deps.sort(key=lambda d: (d.finished_at, d.deployment_id))
        previous: DeploymentRef | None = None
        for d in deps:
            shipped: list[str] | None
            if previous is None:
                shipped = []
            elif d.commit_sha not in first_parents or previous.commit_sha not in first_parents:
                shipped = None
            else:
                dd, dp = depth_of(d.commit_sha), depth_of(previous.commit_sha)
                if dd > dp:
                    path = walk(d.commit_sha, dd - dp)
                    shipped = path[:-1] if path[-1] == previous.commit_sha and len(path) == dd - dp + 1 else None
                elif walk(previous.commit_sha, dp - dd)[-1] == d.commit_sha:
                    shipped = []  # the same commit again, or an ancestor: nothing new
                else:
                    shipped = None
            if shipped is not None and pr_services is not None:
                shipped = [c for c in shipped if c not in pr_services or service in pr_services[c]]
            hotfix = bool(shipped) and any(c in hotfix_commits for c in shipped)
            result[d.event_id] = (shipped, hotfix)
            previous = d
    return result
