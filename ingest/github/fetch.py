"""Read GitHub: these functions only talk HTTP and yield pages of dicts exactly as GitHub sent them.

Everything goes through PyGithub's requester (auth, retries with backoff, rate-limit waits,
timeouts). GraphQL queries are the `.graphql` files in `queries/`; REST lists follow
`Link: rel="next"` so that a first page can be asked conditionally with its stored ETag.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any, Iterator

import requests
from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.Requester import Requester

from ingest.github.normalise import parse_time
from ingest.github.settings import ClientSettings, RepoSettings

# A payload that is cut off (truncated JSON) is a transport fault: retried this many times.
MALFORMED_RESPONSE_RETRIES = 3
_LINK_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')


@cache
def read_query(name: str) -> str:
    """The text of the GraphQL query `queries/<name>.graphql`."""
    return resources.files("ingest.github").joinpath("queries", f"{name}.graphql").read_text(encoding="utf-8")


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
    yield from _graphql_pages(api, repo, read_query("pull_requests"), variables, ("pullRequests",), "updatedAt",
                              floor, cursor)


def fetch_deployments(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                      cursor: str | None) -> Iterator[Page]:
    """GitHub Deployments to the configured environments with their statuses, newest first."""
    variables = {"environments": repo.fetched_environments()}
    yield from _graphql_pages(api, repo, read_query("deployments"), variables, ("deployments",), "createdAt",
                              floor, cursor)


def fetch_releases(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                   cursor: str | None) -> Iterator[Page]:
    """Releases with the commit their tag points at, newest first."""
    yield from _graphql_pages(api, repo, read_query("releases"), {}, ("releases",), "createdAt", floor, cursor)


def fetch_commits(api: GitHubApi, repo: RepoSettings, floor: datetime | None,
                  cursor: str | None) -> Iterator[Page]:
    """The production branch's history (each commit with its parents), newest first."""
    variables = {"ref": f"refs/heads/{repo.production_branch}",
                 "since": format_time(floor) if floor else None}
    # `since` is applied by GitHub, so no floor here
    yield from _graphql_pages(api, repo, read_query("history"), variables, ("ref", "target", "history"),
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


def is_rate_limit_error(exc: BaseException) -> bool:
    """True for an exhausted budget: primary limit past the allowed wait, or GraphQL's RATE_LIMITED."""
    if isinstance(exc, RateLimitExceededException):
        return True
    if isinstance(exc, GithubException) and isinstance(exc.data, dict):
        errors = exc.data.get("errors") or []
        return any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors)
    return False


def lookback_floor(watermark: datetime | None, days: float) -> datetime | None:
    """Where an incremental pass stops: the watermark minus the look-back window."""
    return None if watermark is None else watermark - timedelta(days=days)
