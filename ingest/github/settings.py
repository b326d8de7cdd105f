"""GitHub source: merged pull requests, deployments, incident issues and the production branch's
history, through PyGithub, into raw_events, rejects and stg_events (docs/github.md).

Three kinds of function, as in every source module:
- fetch_* only talk HTTP, through PyGithub's requester (auth, retries with backoff, rate-limit
  waits, timeouts), and yield pages of dicts exactly as GitHub sent them;
- normalise_* and link_* have no I/O: they check payloads (a malformed one becomes a reject with
  its reason) and compute which commits each deployment shipped;
- save_records and relink_repository write the warehouse: raw payloads replaced by key in bulk,
  staged by the SQL models in ingest/sql/stg_github__*.sql. The caller owns the transaction.

GitHub data changes after the fact (PR edits, late deployment statuses), so a key that comes again
replaces its raw row and its staged rows, unlike the append-only event log.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import duckdb
import pyarrow as pa
import requests
from github import Auth, Github, GithubException, GithubRetry
from github.Requester import Requester

from core.sql import read_sql, run_sql
from ingest.warehouse import Run

ORIGIN = "github"
DEPLOYMENT_SOURCES = ("deployments", "workflow_runs", "releases")
# A payload that is cut off (truncated JSON) is a transport fault: retried this many times.
MALFORMED_RESPONSE_RETRIES = 3
_SHA = re.compile(r"^[0-9a-f]{40}$")
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


# --------------------------------------------------------------------------------------------
# Settings (parsed from dora.toml by dora/config.py; plain values here)


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


# --------------------------------------------------------------------------------------------
# The client


class GitHubApi:
    """PyGithub's requester plus the bookkeeping a nightly job needs: calls made, budget left."""

    def __init__(self, token: str, settings: ClientSettings):
        c = settings
        retry = GithubRetry(
            total=c.max_retries,
            backoff_factor=c.retry_backoff_seconds,
            secondary_rate_wait=c.secondary_rate_wait_seconds,
            max_rate_limit_wait=c.max_rate_limit_wait_seconds,
            # 429 is GitHub's other rate-limit answer; urllib3 honours its retry-after
            status_forcelist=list(range(500, 600)) + [429],
        )
        self.github = Github(
            auth=Auth.Token(token), base_url=c.base_url.rstrip("/"), per_page=c.page_size, retry=retry,
            # PyGithub takes whole seconds
            seconds_between_requests=c.seconds_between_requests or None, timeout=max(1, round(c.timeout_seconds)),
            # GraphQL queries are POSTs but read nothing-changing data: pace them like reads
            seconds_between_writes=c.seconds_between_requests or None,
        )
        self.requester: Requester = self.github.requester
        self.page_size = c.page_size
        self.calls = 0
        self.graphql_remaining: int | None = None
        self.graphql_reset_at: str | None = None

    @property
    def rest_remaining(self) -> int | None:
        remaining, limit = self.requester.rate_limiting
        return None if limit < 0 else remaining

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a GraphQL query; its `data`. A cut-off answer is asked again a few times."""
        for attempt in range(MALFORMED_RESPONSE_RETRIES + 1):
            self.calls += 1
            try:
                _, body = self.requester.graphql_query(query, variables)
                break
            except (ValueError, requests.exceptions.ChunkedEncodingError):
                if attempt == MALFORMED_RESPONSE_RETRIES:
                    raise
        data = body.get("data") or {}
        rate = data.get("rateLimit") or {}
        if "remaining" in rate:
            self.graphql_remaining = rate["remaining"]
            self.graphql_reset_at = rate.get("resetAt")
        return data

    def get(self, url: str, parameters: dict[str, Any] | None = None,
            etag: str | None = None) -> tuple[int, dict[str, Any], Any]:
        """GET a REST resource: (status, headers, JSON); status 304 means unchanged since `etag`."""
        headers = {"If-None-Match": etag} if etag else {}
        for attempt in range(MALFORMED_RESPONSE_RETRIES + 1):
            self.calls += 1
            try:
                status, response_headers, text = self.requester.requestJson("GET", url, parameters, dict(headers))
                if status == 304:
                    return status, response_headers, None
                data = json.loads(text) if text else None
                break
            except (ValueError, requests.exceptions.ChunkedEncodingError):
                if attempt == MALFORMED_RESPONSE_RETRIES:
                    raise
        if status >= 400:
            raise Requester.createException(status, response_headers, data)
        return status, response_headers, data


# --------------------------------------------------------------------------------------------
# Fetching


@dataclass
class Page:
    """One answer of the API: its items and where the stream resumes after it."""

    items: list[dict[str, Any]]
    cursor: str | None          # resume point once this page is stored
    done: bool                  # the pass has reached its floor or the end
    total: int | None = None    # the API's total count, when it says (for progress bars)
    etag: str | None = None     # for a conditional request next time (one-page REST answers)
    etag_url: str | None = None
    not_modified: bool = False  # 304: the same answer as last time


PULLS_QUERY = """
query PullRequests($owner: String!, $name: String!, $base: String, $first: Int!, $after: String,
                   $withFiles: Boolean!, $withBody: Boolean!) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    pullRequests(first: $first, after: $after, states: MERGED, baseRefName: $base,
                 orderBy: {field: UPDATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId number title url createdAt updatedAt mergedAt baseRefName additions deletions
        body @include(if: $withBody)
        author { login }
        mergeCommit { oid }
        labels(first: 20) { nodes { name } }
        commits(first: 100) { totalCount nodes { commit { oid authoredDate committedDate } } }
        reviews(first: 1, states: [APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED]) { nodes { submittedAt } }
        files(first: 100) @include(if: $withFiles) { totalCount nodes { path } }
      }
    }
  }
}
"""

DEPLOYMENTS_QUERY = """
query Deployments($owner: String!, $name: String!, $environments: [String!], $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    deployments(first: $first, after: $after, environments: $environments,
                orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        databaseId createdAt updatedAt environment task description commitOid
        ref { name }
        creator { login }
        statuses(first: 20) { nodes { state createdAt description } }
      }
    }
  }
}
"""

RELEASES_QUERY = """
query Releases($owner: String!, $name: String!, $first: Int!, $after: String) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    releases(first: $first, after: $after, orderBy: {field: CREATED_AT, direction: DESC}) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { databaseId tagName name url createdAt publishedAt isDraft isPrerelease tagCommit { oid } }
    }
  }
}
"""

HISTORY_QUERY = """
query History($owner: String!, $name: String!, $ref: String!, $first: Int!, $after: String,
              $since: GitTimestamp) {
  rateLimit { cost remaining resetAt }
  repository(owner: $owner, name: $name) {
    ref(qualifiedName: $ref) {
      target {
        ... on Commit {
          history(first: $first, after: $after, since: $since) {
            totalCount
            pageInfo { hasNextPage endCursor }
            nodes { oid committedDate authoredDate parents(first: 2) { nodes { oid } } }
          }
        }
      }
    }
  }
}
"""


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 timestamp from GitHub as an aware UTC datetime; None if absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return None
    return parsed.astimezone(timezone.utc)


def format_time(value: datetime) -> str:
    """UTC, second precision, `Z`: the form GitHub's query parameters take."""
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class RepositoryNotFound(Exception):
    """The repository (or its production branch) does not exist or the token cannot see it."""


def _connection(data: dict[str, Any], repo: RepoSettings, *path: str) -> dict[str, Any]:
    node: Any = data.get("repository")
    if node is None:
        raise RepositoryNotFound(f"repository {repo.name} not found, or the token cannot read it")
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
        if node is None:
            if key == "ref":  # the History query asks for the production branch by name
                raise RepositoryNotFound(f"{repo.name}: production branch {repo.production_branch!r} not found")
            raise RepositoryNotFound(f"{repo.name}: {'.'.join(path)} missing from GitHub's answer")
    return node


def _graphql_pages(
    api: GitHubApi, repo: RepoSettings, query: str, variables: dict[str, Any], path: tuple[str, ...],
    order_key: str, floor: datetime | None, cursor: str | None,
) -> Iterator[Page]:
    """Page through a connection ordered newest first, stopping at the first node older than `floor`."""
    after = cursor
    while True:
        data = api.graphql(query, {"owner": repo.owner, "name": repo.repo, "first": api.page_size,
                                   "after": after, **variables})
        conn = _connection(data, repo, *path)
        nodes = conn.get("nodes") or []
        kept = []
        reached_floor = False
        for node in nodes:
            at = parse_time(node.get(order_key)) if isinstance(node, dict) else None
            if floor is not None and at is not None and at < floor:
                reached_floor = True
                break
            kept.append(node)
        info = conn.get("pageInfo") or {}
        after = info.get("endCursor") or after
        done = reached_floor or not info.get("hasNextPage")
        yield Page(kept, after, done, total=conn.get("totalCount"))
        if done:
            return


def fetch_pull_requests(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                        cursor: str | None) -> Iterator[Page]:
    """Merged PRs into the production branch, most recently updated first, back to `floor`.

    One GraphQL request per 100 PRs brings each PR's commits (first-commit time), first review,
    merge commit and size, so no per-PR call is needed.
    """
    variables = {"base": repo.production_branch, "withFiles": bool(repo.services),
                 "withBody": repo.revert_incidents}
    yield from _graphql_pages(api, repo, PULLS_QUERY, variables, ("pullRequests",), "updatedAt", floor, cursor)


def fetch_deployments(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                      cursor: str | None) -> Iterator[Page]:
    """GitHub Deployments to the configured environments with their statuses, newest first."""
    variables = {"environments": repo.fetched_environments()}
    yield from _graphql_pages(api, repo, DEPLOYMENTS_QUERY, variables, ("deployments",), "createdAt", floor, cursor)


def fetch_releases(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                   cursor: str | None) -> Iterator[Page]:
    """Releases with the commit their tag points at, newest first."""
    yield from _graphql_pages(api, repo, RELEASES_QUERY, {}, ("releases",), "createdAt", floor, cursor)


def fetch_commits(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                  cursor: str | None) -> Iterator[Page]:
    """The production branch's history (each commit with its parents), newest first."""
    variables = {"ref": f"refs/heads/{repo.production_branch}",
                 "since": format_time(floor) if floor else None}
    # `since` is applied by GitHub, so no floor here
    yield from _graphql_pages(api, repo, HISTORY_QUERY, variables, ("ref", "target", "history"),
                              "committedDate", None, cursor)


def _rest_pages(api: GitHubApi, url: str, params: dict[str, Any], list_key: str | None,
                etag: tuple[str, str] | None) -> Iterator[tuple[list[dict], dict, bool, str | None, str | None, bool]]:
    """Follow `Link: rel=next` from a first request: (items, body, not_modified, etag, url, has_next)."""
    first_url = url + "?" + "&".join(f"{k}={v}" for k, v in sorted(params.items()))
    send_etag = etag[1] if etag and etag[0] == first_url else None
    status, headers, body = api.get(url, params, send_etag)
    if status == 304:
        yield [], {}, True, send_etag, first_url, False
        return
    while True:
        items = body.get(list_key, []) if list_key else body
        match = _LINK_NEXT.search(headers.get("link", ""))
        yield (items or [], body if isinstance(body, dict) else {}, False, headers.get("etag"), first_url,
               match is not None)
        if not match:
            return
        status, headers, body = api.get(match.group(1))


def fetch_issues(api: GitHubApi, repo: RepoSettings, label: str, floor: datetime | None,
                 cursor: str | None, etag: tuple[str, str] | None = None) -> Iterator[Page]:
    """Issues with `label` updated since `floor` (REST has `since`), oldest update first.

    The issues endpoint also lists pull requests; those are dropped by normalise_issue.
    """
    since = parse_time(cursor) or floor
    params: dict[str, Any] = {"labels": label, "state": "all", "sort": "updated", "direction": "asc",
                              "per_page": api.page_size}
    if since:
        params["since"] = format_time(since)
    for items, _, not_modified, new_etag, url, has_next in _rest_pages(
            api, f"/repos/{repo.name}/issues", params, None, etag):
        if not_modified:
            yield Page([], cursor, True, etag=new_etag, etag_url=url, not_modified=True)
            return
        times = [t for t in (parse_time(i.get("updated_at")) for i in items if isinstance(i, dict)) if t]
        cursor = format_time(max(times)) if times else cursor
        yield Page(items, cursor, not has_next, etag=new_etag, etag_url=url)


def fetch_workflow_runs(api: GitHubApi, repo: RepoSettings, workflow: str, floor: datetime | None,
                        cursor: str | None, etag: tuple[str, str] | None = None) -> Iterator[Page]:
    """Completed runs of a deploy workflow on the production branch, newest first.

    A filtered query returns at most 1,000 runs, so a long backfill is read as successive
    queries, each ending where the previous one stopped (`created=..<oldest seen>`).
    """
    upper = parse_time(cursor)
    first_query = True
    while True:
        if floor and upper:
            created = f"{format_time(floor)}..{format_time(upper)}"
        elif upper:
            created = f"<={format_time(upper)}"
        elif floor:
            created = f">={format_time(floor)}"
        else:
            created = None
        # runs still queued or waiting are read too: stored raw, they keep the pass reaching back to
        # them (pending_since) until they complete
        params: dict[str, Any] = {"branch": repo.production_branch, "per_page": api.page_size}
        if created:
            params["created"] = created
        read = 0
        total = None
        oldest = None
        seen_pages = 0
        for items, body, not_modified, new_etag, url, _ in _rest_pages(
                api, f"/repos/{repo.name}/actions/workflows/{workflow}/runs", params, "workflow_runs",
                etag if first_query else None):
            if not_modified:
                yield Page([], cursor, True, etag=new_etag, etag_url=url, not_modified=True)
                return
            seen_pages += 1
            total = body.get("total_count", total)
            read += len(items)
            times = [t for t in (parse_time(i.get("created_at")) for i in items if isinstance(i, dict)) if t]
            if times:
                oldest = min(times)
            yield Page(items, format_time(oldest) if oldest else cursor, False, total=total,
                       etag=new_etag if first_query and seen_pages == 1 else None, etag_url=url)
        first_query = False
        # GitHub stops a filtered query at 1,000 runs: continue below the oldest one seen
        if total is not None and read < total and oldest is not None and (upper is None or oldest < upper):
            upper = oldest
            cursor = format_time(oldest)
            continue
        yield Page([], cursor, True, total=total)
        return


def fetch_stream(api: GitHubApi, repo: RepoSettings, stream: str, floor: datetime | None,
                 cursor: str | None, etag: tuple[str, str] | None = None) -> Iterator[Page]:
    """The pages of one stream of a repository, from `cursor` (resume) back to `floor`."""
    kind, _, arg = stream.partition(":")
    if kind == "pulls":
        return fetch_pull_requests(api, repo, floor, cursor)
    if kind == "commits":
        return fetch_commits(api, repo, floor, cursor)
    if kind == "deployments":
        return fetch_deployments(api, repo, floor, cursor)
    if kind == "releases":
        return fetch_releases(api, repo, floor, cursor)
    if kind == "workflow_runs":
        return fetch_workflow_runs(api, repo, arg, floor, cursor, etag)
    if kind == "issues":
        return fetch_issues(api, repo, arg, floor, cursor, etag)
    raise ValueError(f"unknown stream {stream}")


# Whether a stream is read oldest-update-first (its cursor is a time to continue from).
ASCENDING_STREAMS = ("issues",)


# --------------------------------------------------------------------------------------------
# Normalising (no I/O)


@dataclass
class Record:
    """A payload accepted as a raw event."""

    event_id: str
    event_type: str
    occurred_at: datetime
    order_at: datetime       # the stream's order key: watermarks are made of these
    payload: str


@dataclass
class Reject:
    """A payload refused, with why."""

    raw: str
    reason: str


def _dump(item: Any) -> str:
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _check_times(item: dict, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> str | None:
    for key in required:
        if parse_time(item.get(key)) is None:
            return f"{key} is missing or not an ISO 8601 timestamp with an offset"
    for key in optional:
        if item.get(key) is not None and parse_time(item.get(key)) is None:
            return f"{key} is not an ISO 8601 timestamp with an offset"
    return None


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def normalise_pull(item: Any) -> Record | Reject:
    """A merged pull request (GraphQL node) → raw event 'pull:<number>'."""
    if not isinstance(item, dict):
        return Reject(_dump(item), "pull request is not a JSON object")
    if not _int(item.get("number")):
        return Reject(_dump(item), "pull request without a number")
    problem = _check_times(item, ("mergedAt", "updatedAt"), ("createdAt",))
    if problem:
        return Reject(_dump(item), f"pull request #{item['number']}: {problem}")
    commits = ((item.get("commits") or {}).get("nodes")) or []
    for node in commits:
        authored = ((node or {}).get("commit") or {}).get("authoredDate")
        if authored is not None and parse_time(authored) is None:
            return Reject(_dump(item), f"pull request #{item['number']}: a commit's authoredDate is not a timestamp")
    merge = item.get("mergeCommit") or {}
    if merge.get("oid") is not None and not _SHA.match(str(merge["oid"])):
        return Reject(_dump(item), f"pull request #{item['number']}: mergeCommit.oid is not a commit SHA")
    return Record(f"pull:{item['number']}", "github.pull_request", parse_time(item["mergedAt"]),
                  parse_time(item["updatedAt"]), _dump(item))


def normalise_deployment(item: Any) -> Record | Reject:
    """A GitHub Deployment (GraphQL node, with statuses) → raw event 'deployment:<id>'."""
    if not isinstance(item, dict):
        return Reject(_dump(item), "deployment is not a JSON object")
    if not _int(item.get("databaseId")):
        return Reject(_dump(item), "deployment without a databaseId")
    problem = _check_times(item, ("createdAt",))
    if problem is None and not _SHA.match(str(item.get("commitOid") or "")):
        problem = "commitOid is not a commit SHA"
    if problem is None:
        for status in ((item.get("statuses") or {}).get("nodes")) or []:
            if not isinstance(status, dict) or parse_time(status.get("createdAt")) is None:
                problem = "a status has no createdAt timestamp"
                break
    if problem:
        return Reject(_dump(item), f"deployment {item['databaseId']}: {problem}")
    at = parse_time(item["createdAt"])
    return Record(f"deployment:{item['databaseId']}", "github.deployment", at, at, _dump(item))


def normalise_release(item: Any) -> Record | Reject:
    """A release (GraphQL node) → raw event 'release:<id>'."""
    if not isinstance(item, dict):
        return Reject(_dump(item), "release is not a JSON object")
    if not _int(item.get("databaseId")):
        return Reject(_dump(item), "release without a databaseId")
    problem = _check_times(item, ("createdAt",), ("publishedAt",))
    if problem:
        return Reject(_dump(item), f"release {item['databaseId']}: {problem}")
    at = parse_time(item["createdAt"])
    return Record(f"release:{item['databaseId']}", "github.release", at, at, _dump(item))


def normalise_workflow_run(item: Any) -> Record | Reject:
    """An Actions workflow run (REST) → raw event 'workflow_run:<id>'."""
    if not isinstance(item, dict):
        return Reject(_dump(item), "workflow run is not a JSON object")
    if not _int(item.get("id")):
        return Reject(_dump(item), "workflow run without an id")
    problem = _check_times(item, ("created_at", "updated_at"), ("run_started_at",))
    if problem is None and not _SHA.match(str(item.get("head_sha") or "")):
        problem = "head_sha is not a commit SHA"
    if problem:
        return Reject(_dump(item), f"workflow run {item['id']}: {problem}")
    at = parse_time(item["created_at"])
    return Record(f"workflow_run:{item['id']}", "github.workflow_run", at, at, _dump(item))


def normalise_issue(item: Any) -> Record | Reject | None:
    """An incident issue (REST) → raw event 'issue:<number>'; pull requests are skipped (None)."""
    if not isinstance(item, dict):
        return Reject(_dump(item), "issue is not a JSON object")
    if "pull_request" in item:
        return None
    if not _int(item.get("number")):
        return Reject(_dump(item), "issue without a number")
    problem = _check_times(item, ("created_at", "updated_at"), ("closed_at",))
    if problem:
        return Reject(_dump(item), f"issue #{item['number']}: {problem}")
    return Record(f"issue:{item['number']}", "github.issue", parse_time(item["created_at"]),
                  parse_time(item["updated_at"]), _dump(item))


def normalise_commit(item: Any) -> Record | Reject:
    """A commit of the production branch (GraphQL history node) → raw event 'commit:<sha>'."""
    if not isinstance(item, dict) or not _SHA.match(str(item.get("oid") or "")):
        return Reject(_dump(item), "commit without a 40-hex oid")
    problem = _check_times(item, ("committedDate",))
    if problem:
        return Reject(_dump(item), f"commit {item['oid']}: {problem}")
    at = parse_time(item["committedDate"])
    return Record(f"commit:{item['oid']}", "github.commit", at, at, _dump(item))


NORMALISERS = {
    "pulls": normalise_pull,
    "commits": normalise_commit,
    "deployments": normalise_deployment,
    "releases": normalise_release,
    "workflow_runs": normalise_workflow_run,
    "issues": normalise_issue,
}


def normalise_page(stream: str, items: list[Any]) -> tuple[list[Record], list[Reject]]:
    """Split a page into accepted records (the last copy of a key wins) and rejects."""
    normalise = NORMALISERS[stream.partition(":")[0]]
    records: dict[str, Record] = {}
    rejects: list[Reject] = []
    for item in items:
        result = normalise(item)
        if isinstance(result, Record):
            records[result.event_id] = result
        elif isinstance(result, Reject):
            rejects.append(result)
    return list(records.values()), rejects


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


# --------------------------------------------------------------------------------------------
# Writing (the caller owns the transaction)


@dataclass
class SaveCounts:
    """What one save did."""

    records: int = 0
    loaded: int = 0      # keys not stored before
    replaced: int = 0    # keys stored before: replaced by the current version
    rejected: int = 0
    reject_samples: list[tuple[str, int | None, str]] = field(default_factory=list)


def _execute_model(con: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any]) -> None:
    """Run ingest/sql/<name>.sql, binding only the named parameters it uses."""
    run_sql(con, "ingest", name, params)


def staging_params(repo: RepoSettings, environment: str) -> dict[str, Any]:
    """The values the stg_github__* models bind."""
    return {
        "source": repo.source,
        "repository": repo.name,
        "service": repo.service,
        "environment": environment,
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
        con.register("gh_rejects", pa.table({"raw": [r.raw for r in rejects], "reason": [r.reason for r in rejects]}))
        try:
            con.execute(
                """
                INSERT INTO rejects (ingest_run_id, origin, file, line_no, raw, reason)
                SELECT DISTINCT ?, ?, ?, NULL, g.raw, g.reason FROM gh_rejects g
                -- the same bad payload seen again (look-back window) is already kept
                WHERE NOT EXISTS (SELECT 1 FROM rejects r WHERE r.file = ? AND r.raw = g.raw)
                """,
                [run.run_id, ORIGIN, reject_file, reject_file],
            )
        finally:
            con.unregister("gh_rejects")
        counts.reject_samples = [(reject_file, None, r.reason) for r in rejects[:20]]
    if not records:
        return counts
    batch = pa.table({
        "source": pa.array([repo.source] * len(records), pa.string()),
        "event_id": pa.array([r.event_id for r in records], pa.string()),
        "event_type": pa.array([r.event_type for r in records], pa.string()),
        "occurred_at": pa.array([r.occurred_at for r in records], pa.timestamp("us", tz="UTC")),
        "payload": pa.array([r.payload for r in records], pa.string()),
    })
    con.register("gh_batch_view", batch)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE gh_batch AS SELECT * FROM gh_batch_view")
    finally:
        con.unregister("gh_batch_view")
    counts.replaced = con.execute(
        "SELECT count(*) FROM raw_events r JOIN gh_batch b USING (source, event_id)").fetchall()[0][0]
    counts.loaded = len(records) - counts.replaced
    con.execute("DELETE FROM stg_events s USING gh_batch b WHERE s.source = b.source AND s.event_id = b.event_id")
    con.execute("DELETE FROM raw_events r USING gh_batch b WHERE r.source = b.source AND r.event_id = b.event_id")
    con.execute(
        """
        INSERT INTO raw_events (origin, source, event_id, event_type, occurred_at, payload, ingest_run_id, file, line_no)
        SELECT ?, source, event_id, event_type, occurred_at, payload, ?, NULL, NULL FROM gh_batch
        """,
        [ORIGIN, run.run_id],
    )
    model = {"pulls": "stg_github__pulls", "deployments": "stg_github__deployments",
             "releases": "stg_github__releases", "workflow_runs": "stg_github__workflow_runs",
             "issues": "stg_github__issues"}.get(stream.partition(":")[0])
    if model:
        params = staging_params(repo, environment)
        params["run_id"] = run.run_id
        _execute_model(con, model, params)
    return counts


def relink_repository(con: duckdb.DuckDBPyConnection, repo: RepoSettings) -> None:
    """Recompute what each of the repository's deployments shipped, and resolve incident links.

    Runs after every stored page that can change them (history, PRs, deployments, incidents):
    a late deployment status or a newly read commit changes its neighbours too.
    """
    commits = con.execute(
        """
        SELECT json_extract_string(payload, '$.oid'), json_extract_string(payload, '$.parents.nodes[0].oid')
        FROM raw_events WHERE source = ? AND event_type = 'github.commit'
        """,
        [repo.source],
    ).fetchall()
    first_parents = dict(commits)
    deployments = [
        DeploymentRef(*row) for row in con.execute(
            """
            SELECT event_id, service, commit_sha, occurred_at, deployment_id FROM stg_events
            WHERE source = ? AND kind = 'deployment' AND service IS NOT NULL
            """,
            [repo.source],
        ).fetchall()
    ]
    prs = con.execute(
        """
        SELECT json_extract_string(payload, '$.mergeCommit.oid'),
               json_extract_string(payload, '$.files.nodes[*].path'),
               json_extract_string(payload, '$.labels.nodes[*].name')
        FROM raw_events WHERE source = ? AND event_type = 'github.pull_request'
        """,
        [repo.source],
    ).fetchall()
    hotfix_labels = {label.lower() for label in repo.hotfix_labels}
    hotfix = frozenset(sha for sha, _, labels in prs
                       if sha and any((label or "").lower() in hotfix_labels for label in labels or []))
    pr_services = ({sha: match_services(paths, repo.services) for sha, paths, _ in prs if sha}
                   if repo.services else None)
    links = link_shipped_commits(first_parents, deployments, pr_services, hotfix)
    if links:
        table = pa.table({
            "event_id": pa.array(list(links), pa.string()),
            "shipped": pa.array([v[0] for v in links.values()], pa.list_(pa.string())),
            "hotfix": pa.array([v[1] for v in links.values()], pa.bool_()),
        })
        con.register("gh_links_view", table)
        try:
            con.execute("CREATE OR REPLACE TEMP TABLE gh_links AS SELECT * FROM gh_links_view")
        finally:
            con.unregister("gh_links_view")
        con.execute(
            """
            UPDATE stg_events SET shipped_commits = l.shipped, unplanned = l.hotfix
            FROM gh_links l
            WHERE stg_events.source = ? AND stg_events.kind = 'deployment' AND stg_events.event_id = l.event_id
            """,
            [repo.source],
        )
    _execute_model(con, "github_link_incidents", {"source": repo.source, "repository": repo.name})


def ensure_sync_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create the watermark and file-offset tables if this warehouse has none yet."""
    con.execute(read_sql("ingest", "sync_state"))


def is_rate_limit_error(exc: BaseException) -> bool:
    """True for an exhausted budget: primary limit past the allowed wait, or GraphQL's RATE_LIMITED."""
    from github import RateLimitExceededException

    if isinstance(exc, RateLimitExceededException):
        return True
    if isinstance(exc, GithubException) and isinstance(exc.data, dict):
        errors = exc.data.get("errors") or []
        return any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors)
    return False


def lookback_floor(watermark: datetime | None, days: float) -> datetime | None:
    """Where an incremental pass stops: the watermark minus the look-back window."""
    return None if watermark is None else watermark - timedelta(days=days)


# How long an unfinished deployment, run or draft release keeps the passes reaching back to it.
PENDING_MAX_DAYS = 30

_PENDING_SQL = {
    # the order key of these streams is the creation time, but they finish later: a deployment
    # waiting for approval, a run still queued, a draft release published days after
    "deployments": """NOT list_has_any(list_transform(json_extract_string(payload, '$.statuses.nodes[*].state'),
                                                      lambda s: upper(s)), ['SUCCESS', 'FAILURE', 'ERROR'])""",
    "workflow_runs": "coalesce(json_extract_string(payload, '$.status'), '') <> 'completed'",
    "releases": """coalesce(json_extract_string(payload, '$.isDraft') = 'true', false)
                   OR json_extract_string(payload, '$.publishedAt') IS NULL""",
}


def pending_since(con: duckdb.DuckDBPyConnection, repo: RepoSettings, stream: str,
                  watermark: datetime | None) -> datetime | None:
    """The creation time of the oldest stored item of `stream` that has not finished yet (at most
    PENDING_MAX_DAYS before the watermark): an incremental pass reads back to it."""
    kind, _, arg = stream.partition(":")
    condition = _PENDING_SQL.get(kind)
    if condition is None or watermark is None:
        return None
    event_type = {"deployments": "github.deployment", "workflow_runs": "github.workflow_run",
                  "releases": "github.release"}[kind]
    workflow = "AND regexp_extract(json_extract_string(payload, '$.path'), '([^/]+)$', 1) = ?" if arg else ""
    params = [repo.source, event_type, watermark - timedelta(days=PENDING_MAX_DAYS)] + ([arg] if arg else [])
    rows = con.execute(
        f"SELECT min(occurred_at) FROM raw_events WHERE source = ? AND event_type = ? AND occurred_at >= ? "
        f"{workflow} AND ({condition})",  # fixed SQL fragments chosen by stream, values bound
        params,
    ).fetchall()
    return rows[0][0]
