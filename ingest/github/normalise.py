"""Check GitHub payloads and key them as raw events, with no I/O.

A payload missing what it needs becomes a Reject with its reason; the rest become Records keyed
`pull:<number>`, `deployment:<id>`, … and stored unchanged. Typing and staging happen in SQL
(ingest/sql/stg_github__*.sql); the one thing read here is an incident issue's cause written in its
text (ingest/github/causes.py), because its rules need more than SQL's regular expressions.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ingest.github.causes import Cause, read_cause

_SHA = re.compile(r"^[0-9a-f]{40}$")


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


@dataclass
class Record:
    """A payload accepted as a raw event."""

    event_id: str
    event_type: str
    occurred_at: datetime
    order_at: datetime       # the stream's order key: watermarks are made of these
    payload: str
    cause: Cause | None = None  # incident issues: the cause their text states


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


def _text(item: dict, key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


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
    for node in ((item.get("reviews") or {}).get("nodes")) or []:
        submitted = (node or {}).get("submittedAt")
        if submitted is not None and parse_time(submitted) is None:
            return Reject(_dump(item), f"pull request #{item['number']}: a review's submittedAt is not a timestamp")
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
                  parse_time(item["updated_at"]), _dump(item), read_cause(_text(item, "title"), _text(item, "body")))


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
