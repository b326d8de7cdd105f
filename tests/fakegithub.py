"""A fake GitHub (REST + GraphQL) on 127.0.0.1 for the real PyGithub client, and the one history
builder that feeds it, the event-log equivalent of the same history, the tests and the benchmark.

The server answers the queries ingest/github/ sends (queries/*.graphql, by operation name) with the
shapes of GitHub's GraphQL schema, and the REST endpoints it reads (issues, workflow runs) with the shapes of
GitHub's REST docs: keyset GraphQL cursors, `Link` pagination with absolute URLs on its own
host:port (as GitHub does, `/repositories/<id>/…`), rate-limit headers, weak ETags with 304s
(which cost no budget), the 1,000-result cap on filtered workflow-run queries, and injectable
faults: 500, 502, timeouts, a 403 secondary rate limit with retry-after, an exhausted primary
limit, 404, 403 forbidden, truncated JSON. It counts every request.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tools import cdevents

UTC = timezone.utc


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# --------------------------------------------------------------------------------------------
# The repository model


@dataclass
class Commit:
    oid: str
    parents: list[str]
    authored: datetime
    committed: datetime


@dataclass
class Pull:
    number: int
    title: str
    author: str
    created: datetime
    merged: datetime
    updated: datetime
    merge_sha: str
    commits: list[Commit]
    method: str = "squash"
    labels: list[str] = field(default_factory=list)
    first_review: datetime | None = None        # the builder's truth: the first review by someone else
    additions: int = 10
    deletions: int = 2
    files: list[str] = field(default_factory=list)
    body: str = ""
    base: str = "main"
    # the submitted reviews GitHub lists, oldest first: (author login, submitted); the author's own too
    reviews: list[tuple[str, datetime]] = field(default_factory=list)


@dataclass
class Deployment:
    id: int
    created: datetime
    sha: str
    statuses: list[tuple[str, datetime]]
    environment: str = "production"
    creator: str = "deploy-bot"


@dataclass
class Run:
    id: int
    workflow: str
    created: datetime
    updated: datetime
    head_sha: str
    conclusion: str | None
    status: str = "completed"
    head_branch: str = "main"
    run_attempt: int = 1


@dataclass
class Release:
    id: int
    tag: str
    created: datetime
    published: datetime | None
    sha: str
    draft: bool = False
    prerelease: bool = False


@dataclass
class Issue:
    number: int
    title: str
    created: datetime
    updated: datetime
    closed: datetime | None
    labels: list[str] = field(default_factory=lambda: ["incident"])
    body: str = ""
    author: str = "oncall"
    is_pull: bool = False

    @property
    def state(self) -> str:
        return "closed" if self.closed else "open"


@dataclass
class Repo:
    name: str
    id: int
    default_branch: str = "main"
    commits: dict[str, Commit] = field(default_factory=dict)
    heads: dict[str, str] = field(default_factory=dict)
    pulls: list[Pull] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    runs: list[Run] = field(default_factory=list)
    releases: list[Release] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# The history builder: one history, two renderings (fake GitHub, CDEvents log)


def sha_of(*parts: Any) -> str:
    return hashlib.sha1("/".join(map(str, parts)).encode()).hexdigest()


@dataclass
class History:
    """A repository's history plus, for each rendering, the facts the builder knows independently."""

    repo: Repo
    service: str
    chain: list[str]                                        # first-parent chain of main, oldest first
    shipped: dict[int, list[int]] = field(default_factory=dict)        # deployment id → PR numbers
    unplanned: set[int] = field(default_factory=set)                   # deployment ids shipping a hotfix
    # issue/PR number → (caused_by_change | caused_by_commit | caused_by_deployment, value in the event
    # log's terms): the explicit link the incident carries
    incident_causes: dict[int, tuple[str, str]] = field(default_factory=dict)
    reverts: dict[int, int] = field(default_factory=dict)              # revert PR → reverted PR

    def add_commit(self, parents: list[str], at: datetime, authored: datetime | None = None,
                   salt: str = "") -> Commit:
        commit = Commit(sha_of(self.repo.name, len(self.repo.commits), salt, at.isoformat()),
                        parents, authored or at, at)
        self.repo.commits[commit.oid] = commit
        return commit

    def cause_fields(self, number: int) -> dict[str, str]:
        """The incident's explicit link as an incident tool would write it: the same kind of cause
        the issue's text (or the revert) names, in the event log's terms."""
        return dict([self.incident_causes[number]]) if number in self.incident_causes else {}

    def to_events(self) -> list[dict]:
        """The same history as an event log: what a CD pipeline that knows it all would write."""
        c = cdevents
        repo, events = self.repo, []
        finished = {d.id: success_time(d) for d in repo.deployments}
        for p in repo.pulls:
            first_commit = min(x.authored for x in p.commits) if p.commits else None
            events.append(c.merged(
                id=f"pr-{p.number}", at=p.merged, change=f"{repo.name}#{p.number}", repository=repo.name,
                first_commit_at=first_commit, opened_at=p.created, first_review_at=p.first_review,
                merged_at=p.merged, commit=p.merge_sha, additions=p.additions, deletions=p.deletions,
                author=p.author, title=p.title))
            if p.number in self.reverts:
                events.append(c.incident_detected(
                    id=f"rv-{p.number}", at=p.created, incident=f"{repo.name}#{p.number}", service=self.service,
                    **self.cause_fields(p.number)))
                events.append(c.incident_resolved(id=f"rvr-{p.number}", at=p.merged,
                                                  incident=f"{repo.name}#{p.number}", service=self.service))
        for d in repo.deployments:
            if finished[d.id] is None:
                continue
            events.append(c.deployed(
                id=f"deploy-{d.id}", at=finished[d.id], service=self.service, deployment_id=f"deploy-{d.id}",
                commit=d.sha, repository=repo.name, started_at=d.created,
                changes=[f"{repo.name}#{n}" for n in self.shipped.get(d.id, [])],
                unplanned=True if d.id in self.unplanned else None))
        for i in repo.issues:
            if i.is_pull or "incident" not in i.labels:
                continue
            events.append(c.incident_detected(
                id=f"inc-{i.number}", at=i.created, incident=f"{repo.name}#{i.number}", service=self.service,
                severity="2" if "sev2" in i.labels else None, **self.cause_fields(i.number)))
            if i.closed:
                events.append(c.incident_resolved(id=f"incr-{i.number}", at=i.closed,
                                                  incident=f"{repo.name}#{i.number}", service=self.service))
        return events


def success_time(d: Deployment) -> datetime | None:
    """When the deployment finished: its last status that is not `inactive`, if that is success."""
    real = [(at, state) for state, at in d.statuses if state.upper() != "INACTIVE"]
    if not real:
        return None
    at, state = max(real)
    return at if state.upper() == "SUCCESS" else None


def build_history(
    name: str = "acme/payments", *, n_prs: int = 30, n_deployments: int = 12, n_incidents: int = 5,
    seed: int = 1, start: datetime = datetime(2026, 1, 5, 9, 0, tzinfo=UTC),
    methods: tuple[str, ...] = ("squash", "merge", "rebase"), failed_every: int = 5, hotfix_every: int = 7,
    n_reverts: int = 0, pr_gap: timedelta = timedelta(hours=5), repo_id: int = 4242,
) -> History:
    """A deterministic history: PRs merged by every method, deployments (some failed), incidents.

    Deployments and incidents are attached by time: deployment j deploys main's head at its
    creation; an incident starts a few hours after a successful deployment; every other incident
    states its cause in one of the documented forms in turn ("Caused by: #N", "a regression from
    owner/name#N", "Regression from <sha>", "Caused by deployment <id>"), which the event log renders
    as the same kind of cause (caused_by_change, caused_by_commit, caused_by_deployment); the others
    only guess ("Maybe caused by #N?"), which names no cause. A PR's author sometimes reviews it
    first (a COMMENTED note): its first review is the first by someone else.
    """
    rng = random.Random(seed)
    repo = Repo(name, repo_id)
    service = name.split("/")[1]
    h = History(repo, service, [])
    root = h.add_commit([], start - timedelta(days=30), salt="root")
    h.chain.append(root.oid)
    head = root.oid
    events: list[tuple[datetime, str, int]] = []
    n_total = n_prs + n_reverts
    for i in range(n_total):
        events.append((start + pr_gap * i + timedelta(minutes=rng.randint(0, 120)), "pr", i))
    span = pr_gap * n_total
    for j in range(n_deployments):
        at = start + span * (j + 1) / (n_deployments + 1) + timedelta(minutes=rng.randint(0, 59), seconds=17)
        events.append((at.replace(microsecond=0), "deploy", j))  # GitHub's timestamps have whole seconds
    events.sort()
    pending: list[int] = []              # PRs merged since the last successful deployment
    number = 100
    reverted_candidates: list[int] = []
    first_success = True
    labels_of: dict[int, list[str]] = {}
    deployment_id = 9000
    shipped_by: dict[int, int] = {}      # PR number → deployment id that shipped it
    deployment_finish: dict[int, datetime] = {}
    for at, kind, i in events:
        if kind == "pr":
            number += 1
            is_revert = i >= n_prs
            method = methods[i % len(methods)]
            k = 1 + rng.randint(0, 2)
            first_authored = at - timedelta(hours=rng.randint(3, 96), minutes=rng.randint(0, 59))
            branch: list[Commit] = []
            parent = head
            for c in range(k):
                authored = first_authored + timedelta(minutes=37 * c)
                commit = h.add_commit([parent], authored + timedelta(minutes=1), authored, salt=f"b{number}")
                branch.append(commit)
                parent = commit.oid
            tip = branch[-1]
            # commits listed out of author order happen (cherry-picks): the oldest must still win
            if k > 1 and i % 4 == 0:
                branch[0], branch[1] = branch[1], branch[0]
            if method == "squash":
                merge = h.add_commit([head], at, salt=f"s{number}")
                h.chain.append(merge.oid)
            elif method == "merge":
                merge = h.add_commit([head, tip.oid], at, salt=f"m{number}")
                h.chain.append(merge.oid)
            else:  # rebase: the branch's commits re-created on top of main; merge_commit_sha is the last
                prev = head
                for c in branch:
                    merge = h.add_commit([prev], at, c.authored, salt=f"r{number}{c.oid}")
                    h.chain.append(merge.oid)
                    prev = merge.oid
            head = merge.oid
            pending.append(number)
            labels = ["backend"]
            if not is_revert and hotfix_every and (i + 1) % hotfix_every == 0:
                labels.append("hotfix")
            title, body = f"Change {number}", f"Implements change {number}."
            # a revert is opened once the change it reverts is in production
            shipped_candidates = [n for n in reverted_candidates
                                  if n in shipped_by and deployment_finish[shipped_by[n]] < at - timedelta(minutes=30)]
            created = first_authored + timedelta(minutes=rng.randint(5, 90))
            if is_revert and shipped_candidates:
                target = shipped_candidates[-1 - (i - n_prs) % len(shipped_candidates)]
                title, body = f'Revert "Change {target}"', f"Reverts {name}#{target}\n\nThis reverts commit."
                h.reverts[number] = target
                created = max(created, deployment_finish[shipped_by[target]] + timedelta(minutes=10))
            review = created + timedelta(hours=rng.randint(1, 20)) if i % 5 != 3 else None
            if review and review > at:
                review = at - timedelta(minutes=5)
            author = f"dev{i % 6}"
            reviews = [(f"dev{(i + 1) % 6}", review)] if review else []
            if i % 7 == 3:  # the author's own COMMENTED review (a note to reviewers) first: not a review
                reviews.insert(0, (author, created + timedelta(minutes=10)))
            pull = Pull(number, title, author, created, at, at + timedelta(minutes=1), merge.oid, branch,
                        method, labels, review, 5 + (i * 37) % 400, (i * 13) % 90,
                        [f"src/module{i % 4}/file{i}.py"], body, reviews=reviews)
            repo.pulls.append(pull)
            labels_of[number] = labels
            reverted_candidates.append(number)
        else:
            deployment_id += 1
            statuses = [("QUEUED", at), ("IN_PROGRESS", at + timedelta(seconds=30))]
            failed = failed_every and (i + 1) % failed_every == 0
            finish = at + timedelta(minutes=8 + rng.randint(0, 7))
            statuses.append(("FAILURE" if failed else "SUCCESS", finish))
            d = Deployment(deployment_id, at, head, statuses)
            repo.deployments.append(d)
            if failed:
                continue
            # main only moves forward here, so a deployment ships what merged since the last success
            shipped = [] if first_success else pending
            first_success, pending = False, []
            h.shipped[d.id] = shipped
            for n in shipped:
                shipped_by[n] = d.id
            if any("hotfix" in labels_of[n] for n in shipped):
                h.unplanned.add(d.id)
            deployment_finish[d.id] = finish
    # older successful deployments become inactive when a newer one succeeds (not a failure)
    successes = [d for d in repo.deployments if success_time(d)]
    for older, newer in zip(successes, successes[1:]):
        older.statuses.append(("INACTIVE", success_time(newer) + timedelta(seconds=1)))
    repo.heads["main"] = head
    # revert PRs: incidents caused by the reverted PR
    for revert, target in h.reverts.items():
        h.incident_causes[revert] = ("caused_by_change", f"{name}#{target}")
    # incidents after successful deployments
    issue_number = 5000
    stated = 0
    good = [d for d in repo.deployments if d.id in deployment_finish]
    for n in range(n_incidents):
        if not good:
            break
        d = good[(n * 3 + 1) % len(good)]
        issue_number += 1
        started = deployment_finish[d.id] + timedelta(hours=1 + (n * 5) % 20, minutes=n)
        closed = None if n == n_incidents - 1 else started + timedelta(minutes=20 + 47 * n)
        body = "Payments failing for some customers."
        shipped = h.shipped.get(d.id, [])
        culprit = next((p for p in repo.pulls if shipped and p.number == shipped[0]), None)
        # every other incident states its cause, in each documented form in turn; the others only
        # guess, which is not a cause (they are attributed by time)
        if n % 2 == 0 and culprit:
            form, stated = stated % 4, stated + 1
            if form == 0:
                body += f"\n\nCaused by: #{culprit.number}"
                h.incident_causes[issue_number] = ("caused_by_change", f"{name}#{culprit.number}")
            elif form == 1:
                body += f"\n\nThis is a regression from {name}#{culprit.number}."
                h.incident_causes[issue_number] = ("caused_by_change", f"{name}#{culprit.number}")
            elif form == 2:
                body += f"\n\nRegression from {culprit.merge_sha[:7]}"
                # the event log, knowing no commit graph, names the commit the culprit shipped in
                h.incident_causes[issue_number] = ("caused_by_commit", d.sha)
            else:
                body += f"\n\nCaused by deployment {d.id}"
                h.incident_causes[issue_number] = ("caused_by_deployment", f"deploy-{d.id}")
        elif culprit:
            body += f"\n\nMaybe caused by #{culprit.number}?"
        labels = ["incident"] + (["sev2"] if n % 3 == 0 else [])
        repo.issues.append(Issue(issue_number, f"Incident {n}", started,
                                 (closed or started) + timedelta(minutes=2), closed, labels, body))
    # a pull request carrying the incident label: the issues endpoint lists it; it is not an incident
    if repo.pulls:
        p = repo.pulls[0]
        repo.issues.append(Issue(p.number, p.title, p.created, p.updated, p.merged, ["incident"], is_pull=True))
    return h


# --------------------------------------------------------------------------------------------
# The server


@dataclass
class Fault:
    """Answer the next `times` requests matching `match` (path or GraphQL operation) with `kind`."""

    match: str
    kind: str                 # 500, 502, timeout, secondary, primary, truncated, 404, forbidden, block
    times: int = 1
    retry_after: str = "0"
    skip: int = 0             # let this many matching requests through first


def _cursor(key: tuple) -> str:
    return base64.b64encode(json.dumps(list(key)).encode()).decode()


def _uncursor(cursor: str) -> tuple:
    return tuple(json.loads(base64.b64decode(cursor)))


class FakeGitHub:
    """The server: `with FakeGitHub(token) as fake: fake.add(history.repo)`; `fake.base_url`."""

    def __init__(self, token: str = "ghp_faketoken0000000000000000000000000000", *, api_prefix: str = "",
                 rate_limit: int = 5000):
        self.token = token
        self.repos: dict[str, Repo] = {}
        self.faults: list[Fault] = []
        self.lock = threading.Lock()
        self.calls: list[tuple[str, int]] = []       # (route, status) of every request
        self.release = threading.Event()             # lets blocked / slow requests go
        self.arrived = threading.Event()             # set when a `block` fault is reached
        self.api_prefix = api_prefix
        self.rate_limit = rate_limit
        self.remaining = {"core": rate_limit, "graphql": rate_limit}
        self.reset_at = int(time.time()) + 3600
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                fake.handle(self, "GET")

            def do_POST(self) -> None:
                fake.handle(self, "POST")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        # a short poll interval: shutdown() waits for it, and every test stops a server
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    # lifecycle -------------------------------------------------------------------------------
    def __enter__(self) -> "FakeGitHub":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return self.origin + self.api_prefix

    def add(self, repo: Repo) -> Repo:
        with self.lock:
            self.repos[repo.name.lower()] = repo
        return repo

    def inject(self, match: str, kind: str, times: int = 1, retry_after: str = "0", skip: int = 0) -> Fault:
        fault = Fault(match, kind, times, retry_after, skip)
        with self.lock:
            self.faults.append(fault)
        return fault

    def count(self, route: str | None = None, *, include_304: bool = True) -> int:
        with self.lock:
            return sum(1 for r, s in self.calls
                       if (route is None or r == route or r.startswith(route + ":"))
                       and (include_304 or s != 304))

    def reset_counts(self) -> None:
        with self.lock:
            self.calls.clear()

    # dispatch --------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, verb: str) -> None:
        url = urlparse(h.path)
        path = url.path[len(self.api_prefix):] if url.path.startswith(self.api_prefix) else url.path
        if self.api_prefix and url.path == self.api_prefix.removesuffix("/v3") + "/graphql":
            path = "/graphql"  # GitHub Enterprise Server: REST under /api/v3, GraphQL at /api/graphql
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        body = None
        if verb == "POST":
            length = int(h.headers.get("Content-Length") or 0)
            body = json.loads(h.rfile.read(length) or b"{}")
        route = self.route_name(verb, path, body)
        if h.headers.get("Authorization") not in (f"token {self.token}", f"Bearer {self.token}"):
            return self.reply(h, route, 401, {"message": "Bad credentials",
                                              "documentation_url": "https://docs.github.com/rest"})
        fault = self.take_fault(route, path)
        if fault is not None:
            return self.apply_fault(h, route, fault)
        resource = "graphql" if route.startswith("graphql") else "core"
        with self.lock:
            if self.remaining[resource] <= 0:
                exhausted = True
            else:
                exhausted = False
        if exhausted:
            return self.reply(h, route, 403, {"message": "API rate limit exceeded for user ID 1.",
                                              "documentation_url": "https://docs.github.com/rest/rate-limit"},
                              resource=resource)
        try:
            if verb == "POST" and path == "/graphql":
                status, payload, headers = self.graphql(body or {})
            else:
                status, payload, headers = self.rest(path, query, url.query)
        except KeyError:
            status, payload, headers = 404, {"message": "Not Found",
                                             "documentation_url": "https://docs.github.com/rest"}, {}
        etag = None
        if verb == "GET" and status == 200:
            etag = 'W/"' + hashlib.sha1(json.dumps(payload, sort_keys=True).encode()).hexdigest() + '"'
            if h.headers.get("If-None-Match") == etag:
                return self.reply(h, route, 304, None, headers={"ETag": etag}, resource=resource)
            headers["ETag"] = etag
        self.reply(h, route, status, payload, headers=headers, resource=resource)

    def route_name(self, verb: str, path: str, body: Any) -> str:
        if verb == "POST" and path == "/graphql":
            match = re.search(r"query\s+(\w+)", (body or {}).get("query", ""))
            return f"graphql:{match.group(1) if match else '?'}"
        if path.endswith("/issues"):
            return "rest:issues"
        if path.endswith("/runs"):
            return "rest:runs"
        return "rest:" + path

    def take_fault(self, route: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and (fault.match in route or fault.match in path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        continue
                    fault.times -= 1
                    return fault
        return None

    def apply_fault(self, h: BaseHTTPRequestHandler, route: str, fault: Fault) -> None:
        kind = fault.kind
        if kind in ("500", "502"):
            return self.reply(h, route, int(kind), {"message": "Server Error"} if kind == "500" else None,
                              raw=b"<html>Bad Gateway</html>" if kind == "502" else None)
        if kind == "429":
            return self.reply(h, route, 429, {"message": "Too Many Requests"}, headers={"Retry-After": fault.retry_after})
        if kind == "secondary":
            return self.reply(h, route, 403, {
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"},
                headers={"Retry-After": fault.retry_after})
        if kind == "primary":
            with self.lock:
                self.remaining["core"] = self.remaining["graphql"] = 0
                self.reset_at = int(time.time()) + 3000
            return self.reply(h, route, 403, {"message": "API rate limit exceeded for user ID 1.",
                                              "documentation_url": "https://docs.github.com/rest/rate-limit"})
        if kind == "404":
            if route.startswith("graphql"):
                return self.reply(h, route, 200, {"data": {"repository": None}, "errors": [{
                    "type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 4, "column": 3}],
                    "message": "Could not resolve to a Repository with the name 'x'."}]})
            return self.reply(h, route, 404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        if kind == "forbidden":
            return self.reply(h, route, 403, {"message": "Resource not accessible by personal access token",
                                              "documentation_url": "https://docs.github.com/rest"})
        if kind == "truncated":
            return self.reply(h, route, 200, None, raw=b'{"data": {"repository": {"pullRequests": {"nodes": [{"numb')
        if kind in ("timeout", "block"):
            self.record(route, 0)
            if kind == "block":
                self.arrived.set()
            self.release.wait(30)
            try:  # the client has given up (or was killed): the socket may be gone
                h.send_response(504)
                h.send_header("Content-Length", "0")
                h.end_headers()
            except OSError:
                pass
            h.close_connection = True
            return
        raise ValueError(kind)

    def record(self, route: str, status: int) -> None:
        with self.lock:
            self.calls.append((route, status))

    def reply(self, h: BaseHTTPRequestHandler, route: str, status: int, payload: Any, *,
              headers: dict[str, str] | None = None, raw: bytes | None = None, resource: str = "core") -> None:
        self.record(route, status)
        data = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        with self.lock:
            if status != 304 and status < 400 and self.remaining[resource] > 0:
                self.remaining[resource] -= 1
            remaining = self.remaining[resource]
        try:
            h.send_response(status)
            h.send_header("Content-Type", "application/json; charset=utf-8")
            h.send_header("Content-Length", str(len(data)))
            h.send_header("X-RateLimit-Limit", str(self.rate_limit))
            h.send_header("X-RateLimit-Remaining", str(remaining))
            h.send_header("X-RateLimit-Reset", str(self.reset_at))
            h.send_header("X-RateLimit-Used", str(self.rate_limit - remaining))
            h.send_header("X-RateLimit-Resource", resource)
            h.send_header("X-GitHub-Request-Id", f"FAKE:{len(self.calls)}")
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            if data:
                h.wfile.write(data)
        except OSError:
            pass

    # GraphQL ---------------------------------------------------------------------------------
    def graphql(self, body: dict) -> tuple[int, dict, dict]:
        query, variables = body.get("query", ""), body.get("variables") or {}
        op = re.search(r"query\s+(\w+)", query)
        op_name = op.group(1) if op else ""
        repo = self.repos.get(f"{variables.get('owner')}/{variables.get('name')}".lower())
        with self.lock:
            rate = {"cost": 1, "remaining": self.remaining["graphql"] - 1,
                    "resetAt": iso(datetime.fromtimestamp(self.reset_at, UTC))}
        if repo is None:
            return 200, {"data": {"rateLimit": rate, "repository": None}, "errors": [{
                "type": "NOT_FOUND", "path": ["repository"], "locations": [{"line": 4, "column": 3}],
                "message": f"Could not resolve to a Repository with the name '{variables.get('owner')}/{variables.get('name')}'."}]}, {}
        first, after = int(variables.get("first") or 100), variables.get("after")
        if op_name == "PullRequests":
            items = [p for p in repo.pulls if variables.get("base") in (None, p.base)]
            items.sort(key=lambda p: (p.updated, p.number), reverse=True)
            keys = [(p.updated, p.number) for p in items]
            nodes, info = self.page(items, keys, first, after)
            # GitHub answers a connection with at most the `first` nodes the query asks for
            reviews = re.search(r"reviews\(first:\s*(\d+)", query)
            review_limit = int(reviews.group(1)) if reviews else 100
            conn = {"totalCount": len(items), "pageInfo": info,
                    "nodes": [self.pull_node(repo, p, variables, review_limit) for p in nodes]}
            return 200, {"data": {"rateLimit": rate, "repository": {"pullRequests": conn}}}, {}
        if op_name == "Deployments":
            envs = {e.lower() for e in variables.get("environments") or []}
            items = [d for d in repo.deployments if not envs or d.environment.lower() in envs]
            items.sort(key=lambda d: (d.created, d.id), reverse=True)
            nodes, info = self.page(items, [(d.created, d.id) for d in items], first, after)
            conn = {"totalCount": len(items), "pageInfo": info, "nodes": [self.deployment_node(d) for d in nodes]}
            return 200, {"data": {"rateLimit": rate, "repository": {"deployments": conn}}}, {}
        if op_name == "Releases":
            items = sorted(repo.releases, key=lambda r: (r.created, r.id), reverse=True)
            nodes, info = self.page(items, [(r.created, r.id) for r in items], first, after)
            conn = {"totalCount": len(items), "pageInfo": info, "nodes": [{
                "databaseId": r.id, "tagName": r.tag, "name": f"Release {r.tag}",
                "url": f"https://github.com/{repo.name}/releases/tag/{r.tag}", "createdAt": iso(r.created),
                "publishedAt": iso(r.published), "isDraft": r.draft, "isPrerelease": r.prerelease,
                "tagCommit": {"oid": r.sha}} for r in nodes]}
            return 200, {"data": {"rateLimit": rate, "repository": {"releases": conn}}}, {}
        if op_name == "History":
            branch = variables["ref"].removeprefix("refs/heads/")
            if branch not in repo.heads:
                return 200, {"data": {"rateLimit": rate, "repository": {"ref": None}}}, {}
            since = parse_iso(variables["since"]) if variables.get("since") else None
            items = self.reachable(repo, repo.heads[branch])
            if since:
                items = [c for c in items if c.committed >= since]
            items.sort(key=lambda c: (c.committed, c.oid), reverse=True)
            nodes, info = self.page(items, [(c.committed, c.oid) for c in items], first, after)
            history = {"totalCount": len(items), "pageInfo": info, "nodes": [{
                "oid": c.oid, "committedDate": iso(c.committed), "authoredDate": iso(c.authored),
                "parents": {"nodes": [{"oid": p} for p in c.parents]}} for c in nodes]}
            return 200, {"data": {"rateLimit": rate, "repository": {"ref": {"target": {"history": history}}}}}, {}
        return 200, {"errors": [{"message": f"unknown operation {op_name}"}]}, {}

    @staticmethod
    def page(items: list, keys: list[tuple], first: int, after: str | None) -> tuple[list, dict]:
        start = 0
        if after:
            at, key = _uncursor(after)
            bound = (parse_iso(at), key)  # keyset: (sort time, id) of the last node returned
            start = next((i for i, k in enumerate(keys) if tuple(k) < bound), len(keys))
        chunk = items[start:start + first]
        end = start + len(chunk)
        last = keys[end - 1] if chunk else None
        info = {"hasNextPage": end < len(items), "endCursor": _cursor((iso(last[0]), last[1])) if chunk else after}
        return chunk, info

    _reachable_cache: dict[tuple[int, str, int], list[Commit]] = {}

    @classmethod
    def reachable(cls, repo: Repo, head: str) -> list[Commit]:
        key = (id(repo), head, len(repo.commits))
        if key not in cls._reachable_cache:
            cls._reachable_cache.clear()
            cls._reachable_cache[key] = cls._walk(repo, head)
        return list(cls._reachable_cache[key])

    @staticmethod
    def _walk(repo: Repo, head: str) -> list[Commit]:
        seen, stack, out = set(), [head], []
        while stack:
            oid = stack.pop()
            if oid in seen or oid not in repo.commits:
                continue
            seen.add(oid)
            commit = repo.commits[oid]
            out.append(commit)
            stack.extend(commit.parents)
        return out

    def pull_node(self, repo: Repo, p: Pull, variables: dict, review_limit: int) -> dict:
        node = {
            "databaseId": 700000 + p.number, "number": p.number, "title": p.title,
            "url": f"https://github.com/{repo.name}/pull/{p.number}", "createdAt": iso(p.created),
            "updatedAt": iso(p.updated), "mergedAt": iso(p.merged), "baseRefName": p.base,
            "additions": p.additions, "deletions": p.deletions,
            "author": {"login": p.author}, "mergeCommit": {"oid": p.merge_sha},
            "labels": {"nodes": [{"name": label} for label in p.labels]},
            "commits": {"totalCount": len(p.commits), "nodes": [
                {"commit": {"oid": c.oid, "authoredDate": iso(c.authored), "committedDate": iso(c.committed)}}
                for c in p.commits[:100]]},
            "reviews": {"nodes": [{"submittedAt": iso(at), "author": {"login": login}}
                                  for login, at in p.reviews[:review_limit]]},
        }
        if variables.get("withBody"):
            node["body"] = p.body
        if variables.get("withFiles"):
            node["files"] = {"totalCount": len(p.files), "nodes": [{"path": f} for f in p.files[:100]]}
        return node

    @staticmethod
    def deployment_node(d: Deployment) -> dict:
        return {
            "databaseId": d.id, "createdAt": iso(d.created), "updatedAt": iso(max(at for _, at in d.statuses)),
            "environment": d.environment, "task": "deploy", "description": f"Deploy {d.sha[:7]}",
            "commitOid": d.sha, "ref": {"name": "main"}, "creator": {"login": d.creator},
            # GitHub lists statuses newest first
            "statuses": {"nodes": [{"state": s, "createdAt": iso(at), "description": None}
                                   for s, at in sorted(d.statuses, key=lambda x: x[1], reverse=True)]},
        }

    # REST ------------------------------------------------------------------------------------
    def repo_for(self, path: str) -> tuple[Repo, str]:
        m = re.match(r"^/repos/([^/]+/[^/]+)(/.*)?$", path)
        if m:
            return self.repos[m.group(1).lower()], m.group(2) or ""
        m = re.match(r"^/repositories/(\d+)(/.*)?$", path)
        if m:
            repo = next(r for r in self.repos.values() if r.id == int(m.group(1)))
            return repo, m.group(2) or ""
        raise KeyError(path)

    def rest(self, path: str, query: dict[str, str], raw_query: str) -> tuple[int, Any, dict]:
        if path == "/rate_limit":
            with self.lock:
                core = {"limit": self.rate_limit, "remaining": self.remaining["core"], "reset": self.reset_at}
            return 200, {"resources": {"core": core}, "rate": core}, {}
        repo, rest = self.repo_for(path)
        if rest == "":
            return 200, {"id": repo.id, "name": repo.name.split("/")[1], "full_name": repo.name,
                         "default_branch": repo.default_branch, "url": f"{self.base_url}/repos/{repo.name}"}, {}
        per_page = min(int(query.get("per_page", 30)), 100)
        page = int(query.get("page", 1))
        if rest == "/issues":
            items = list(repo.issues)
            for label in filter(None, query.get("labels", "").split(",")):
                items = [i for i in items if label in i.labels]
            state = query.get("state", "open")
            if state != "all":
                items = [i for i in items if i.state == state]
            if query.get("since"):
                since = parse_iso(query["since"])
                items = [i for i in items if i.updated >= since]
            items.sort(key=lambda i: (i.updated, i.number), reverse=query.get("direction", "desc") == "desc")
            chunk, links = self.paginate(repo, rest, query, items, per_page, page)
            return 200, [self.issue_json(repo, i) for i in chunk], links
        m = re.match(r"^/actions/workflows/([^/]+)/runs$", rest)
        if m:
            items = [r for r in repo.runs if r.workflow == m.group(1)]
            if query.get("branch"):
                items = [r for r in items if r.head_branch == query["branch"]]
            status = query.get("status")
            if status == "completed":
                items = [r for r in items if r.status == "completed"]
            elif status:
                items = [r for r in items if r.conclusion == status]
            created = query.get("created")
            if created:
                items = [r for r in items if self.in_range(r.created, created)]
            items.sort(key=lambda r: (r.created, r.id), reverse=True)
            total = len(items)
            capped = items[:1000]  # GitHub returns at most 1,000 results for a filtered query
            chunk, links = self.paginate(repo, rest, query, capped, per_page, page)
            return 200, {"total_count": total, "workflow_runs": [self.run_json(repo, r) for r in chunk]}, links
        raise KeyError(path)

    @staticmethod
    def in_range(at: datetime, spec: str) -> bool:
        if spec.startswith(">="):
            return at >= parse_iso(spec[2:])
        if spec.startswith("<="):
            return at <= parse_iso(spec[2:])
        low, _, high = spec.partition("..")
        return parse_iso(low) <= at <= parse_iso(high)

    def paginate(self, repo: Repo, rest: str, query: dict, items: list, per_page: int,
                 page: int) -> tuple[list, dict]:
        chunk = items[(page - 1) * per_page: page * per_page]
        last = max(1, -(-len(items) // per_page))
        links = []
        base = f"{self.base_url}/repositories/{repo.id}{rest}"
        if page < last:
            links.append(f'<{base}?{urlencode({**query, "page": page + 1})}>; rel="next"')
            links.append(f'<{base}?{urlencode({**query, "page": last})}>; rel="last"')
        if page > 1:
            links.append(f'<{base}?{urlencode({**query, "page": 1})}>; rel="first"')
        return chunk, ({"Link": ", ".join(links)} if links else {})

    def issue_json(self, repo: Repo, i: Issue) -> dict:
        api = f"{self.base_url}/repos/{repo.name}"
        data = {
            "url": f"{api}/issues/{i.number}", "repository_url": api,
            "html_url": f"https://github.com/{repo.name}/issues/{i.number}", "id": 900000 + i.number,
            "node_id": f"I_kwFAKE{i.number}", "number": i.number, "title": i.title,
            "user": {"login": i.author, "id": 1, "type": "User"},
            "labels": [{"id": 10 + n, "name": label, "color": "d73a4a", "default": False}
                       for n, label in enumerate(i.labels)],
            "state": i.state, "state_reason": "completed" if i.closed else None, "locked": False,
            "assignee": None, "assignees": [], "milestone": None, "comments": 1,
            "created_at": iso(i.created), "updated_at": iso(i.updated), "closed_at": iso(i.closed),
            "author_association": "MEMBER", "body": i.body,
        }
        if i.is_pull:
            data["pull_request"] = {"url": f"{api}/pulls/{i.number}", "merged_at": iso(i.closed)}
        return data

    def run_json(self, repo: Repo, r: Run) -> dict:
        api = f"{self.base_url}/repos/{repo.name}"
        return {
            "id": r.id, "name": "Deploy", "node_id": f"WFR_FAKE{r.id}", "head_branch": r.head_branch,
            "head_sha": r.head_sha, "path": f".github/workflows/{r.workflow}", "display_title": "Deploy",
            "run_number": r.id % 10000, "event": "push", "status": r.status, "conclusion": r.conclusion,
            "workflow_id": 161335, "url": f"{api}/actions/runs/{r.id}",
            "html_url": f"https://github.com/{repo.name}/actions/runs/{r.id}",
            "created_at": iso(r.created), "updated_at": iso(r.updated), "run_attempt": r.run_attempt,
            "run_started_at": iso(r.created + timedelta(seconds=5)), "actor": {"login": "deploy-bot"},
            "jobs_url": f"{api}/actions/runs/{r.id}/jobs",
        }


def deployments_as_runs(history: History, workflow: str = "deploy.yml") -> None:
    """Render the history's deployments as Actions runs instead (failed ones conclude failure;
    plus a skipped and a cancelled run, which are not deployments)."""
    repo = history.repo
    for d in repo.deployments:
        finish = max(at for _, at in d.statuses)
        ok = success_time(d) is not None
        repo.runs.append(Run(d.id, workflow, d.created, success_time(d) or finish, d.sha,
                             "success" if ok else "failure"))
    if repo.deployments:
        d = repo.deployments[-1]
        repo.runs.append(Run(d.id + 100000, workflow, d.created + timedelta(minutes=1),
                             d.created + timedelta(minutes=2), d.sha, "skipped"))
        repo.runs.append(Run(d.id + 100001, workflow, d.created + timedelta(minutes=3),
                             d.created + timedelta(minutes=4), d.sha, "cancelled"))
    repo.deployments = []


def write_config(path, fake: FakeGitHub, repos: list[str | dict], *, db: str | None = None,
                 eventlog: list[str] | None = None, extra: str = "") -> None:
    """A dora.toml for tests: no waits, tiny timeouts, the fake's base URL."""
    lines = []
    if db:
        lines += ["[warehouse]", f'path = "{db}"', ""]
    if eventlog is not None:
        lines += ["[eventlog]", "paths = " + json.dumps(eventlog), ""]
    lines += ["[github]", f'base_url = "{fake.base_url}"', "seconds_between_requests = 0",
              "timeout_seconds = 2", "max_retries = 3", "retry_backoff_seconds = 0",
              "secondary_rate_wait_seconds = 0", "max_rate_limit_wait_seconds = 5", extra, ""]
    for r in repos:
        lines.append("[[github.repositories]]")
        spec = {"name": r} if isinstance(r, str) else r
        for k, v in spec.items():
            if k != "services":
                lines.append(f"{k} = {json.dumps(v)}")
        for s in spec.get("services", []):
            lines.append("[[github.repositories.services]]")
            lines += [f"{k} = {json.dumps(v)}" for k, v in s.items()]
        lines.append("")
    path.write_text("\n".join(lines), encoding="utf-8")


def client_settings(fake: FakeGitHub, **overrides: Any):
    """PyGithub pointed at the fake, with no waits: tests stay fast."""
    from ingest.github import ClientSettings

    values = dict(base_url=fake.base_url, seconds_between_requests=0, timeout_seconds=2, max_retries=3,
                  retry_backoff_seconds=0, secondary_rate_wait_seconds=0, max_rate_limit_wait_seconds=5)
    values.update(overrides)
    return ClientSettings(**values)


def run_github(con, db_path, fake: FakeGitHub, repos: list, *, token: str | None = None, eventlog=(),
               since=None, full_refresh: bool = False, checkpoint_pages: int = 10, lookback_days: float = 3,
               settings=None, events: list | None = None, **client: Any):
    """One nightly run over `repos` (RepoSettings or names) against the fake, in-process."""
    from dora.nightly import RunOptions, run_nightly
    from ingest.github import GitHubSettings, RepoSettings
    from metrics.build import MetricSettings

    repos = tuple(RepoSettings(r) if isinstance(r, str) else r for r in repos)
    github = GitHubSettings(repos, client_settings(fake, **client), lookback_days, checkpoint_pages)
    return run_nightly(con, db_path, eventlog_paths=list(eventlog), github=github,
                       token=fake.token if token is None else token, settings=settings or MetricSettings(),
                       options=RunOptions(since, full_refresh),
                       on_event=events.append if events is not None else (lambda e: None))


def warehouse_state(con) -> dict[str, list]:
    """What a run leaves behind, comparable across runs (run ids and float noise left out)."""
    return {
        "raw": con.execute("SELECT source, event_id, event_type, occurred_at, payload FROM raw_events "
                           "ORDER BY source, event_id").fetchall(),
        "stg": con.execute("SELECT * EXCLUDE (ingest_run_id) FROM stg_events "
                           "ORDER BY source, event_id, kind").fetchall(),
        "rejects": con.execute("SELECT origin, file, raw, reason FROM rejects ORDER BY ALL").fetchall(),
        "metrics": rounded(con.execute("SELECT * FROM metric_periods ORDER BY grain, period_start, service, "
                                       "environment").fetchall()),
    }


def rounded(rows: list[tuple]) -> list[tuple]:
    """Floats to 9 places: averages are summed in parallel, so their last bits vary between runs."""
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows]
