"""Build CDEvents (spec 0.4/0.5) as plain dicts, the way the event-log contract expects them.

One builder serves the tests (literal rows), the bundled sample and the benchmark generator, so
all three write exactly the shape documented in docs/eventlog.md.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any, Iterable

SPEC_VERSION = "0.4.1"
DEFAULT_SOURCE = "/sample/pipeline"

_TYPE_VERSIONS = {
    "service.deployed": "0.3.0",
    "service.upgraded": "0.3.0",
    "service.rolledback": "0.3.0",
    "change.merged": "0.3.0",
    "incident.detected": "0.3.0",
    "incident.reported": "0.3.0",
    "incident.resolved": "0.3.0",
    "pipelinerun.started": "0.3.0",
    "pipelinerun.finished": "0.3.0",
    "taskrun.started": "0.3.0",
    "taskrun.finished": "0.3.0",
}


def format_time(value: datetime | str) -> str:
    """RFC 3339 in UTC with a `Z`, or a string passed through unchanged (tests use odd offsets)."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _clean(mapping: dict[str, Any]) -> dict[str, Any]:
    """Drop keys whose value is None, formatting datetimes, so optional fields stay absent."""
    return {
        k: (format_time(v) if isinstance(v, datetime) else v)
        for k, v in mapping.items()
        if v is not None
    }


def make_event(
    kind: str,
    *,
    id: str,
    at: datetime | str,
    subject_id: str,
    content: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    source: str = DEFAULT_SOURCE,
    version: str | None = None,
) -> dict[str, Any]:
    """One CDEvent of `kind` (e.g. "service.deployed"); `custom` becomes customData."""
    event: dict[str, Any] = {
        "context": {
            "specversion": SPEC_VERSION,
            "id": id,
            "source": source,
            "type": f"dev.cdevents.{kind}.{version or _TYPE_VERSIONS.get(kind, '0.1.0')}",
            "timestamp": format_time(at),
        },
        "subject": {"id": subject_id, "source": source, "content": content or {}},
    }
    custom = _clean(custom or {})
    if custom:
        event["customData"] = custom
    return event


def deployed(
    *, id: str, at: datetime | str, service: str, environment: str = "production",
    deployment_id: str | None = None, commit: str | None = None, repository: str | None = None,
    changes: list[str] | None = None, started_at: datetime | None = None,
    unplanned: bool | None = None, source: str = DEFAULT_SOURCE, kind: str = "service.deployed",
    traffic_percent: float | None = None,
) -> dict[str, Any]:
    """A service rolled out (or one stage further, `kind="service.upgraded"`) to an environment;
    `traffic_percent` is the share of its traffic served after this event (absent = 100)."""
    return make_event(
        kind, id=id, at=at, subject_id=service, source=source,
        content={"environment": {"id": environment}, "artifactId": f"pkg:generic/{service}@{commit or 'unknown'}"},
        custom={"deployment_id": deployment_id, "commit": commit, "repository": repository,
                "changes": changes, "started_at": started_at, "unplanned": unplanned,
                "traffic_percent": traffic_percent},
    )


def rolledback(
    *, id: str, at: datetime | str, service: str, environment: str = "production",
    rolled_back_deployment: str | None = None, source: str = DEFAULT_SOURCE,
) -> dict[str, Any]:
    """The service was rolled back in that environment."""
    return make_event(
        "service.rolledback", id=id, at=at, subject_id=service, source=source,
        content={"environment": {"id": environment}, "artifactId": f"pkg:generic/{service}"},
        custom={"rolled_back_deployment": rolled_back_deployment},
    )


def merged(
    *, id: str, at: datetime | str, change: str, repository: str | None = None,
    first_commit_at: datetime | None = None, opened_at: datetime | None = None,
    first_review_at: datetime | None = None, merged_at: datetime | None = None,
    commit: str | None = None, additions: int | None = None, deletions: int | None = None,
    author: str | None = None, title: str | None = None, source: str = DEFAULT_SOURCE,
) -> dict[str, Any]:
    """A change (pull request) landed."""
    return make_event(
        "change.merged", id=id, at=at, subject_id=change, source=source,
        content={"repository": {"id": repository}} if repository else {},
        custom={"first_commit_at": first_commit_at, "opened_at": opened_at,
                "first_review_at": first_review_at, "merged_at": merged_at, "commit": commit,
                "repository": repository, "additions": additions, "deletions": deletions,
                "author": author, "title": title},
    )


def incident_detected(
    *, id: str, at: datetime | str, incident: str, service: str | None,
    environment: str = "production", severity: str | None = None,
    caused_by_deployment: str | None = None, caused_by_commit: str | None = None,
    source: str = DEFAULT_SOURCE, kind: str = "incident.detected", caused_by_change: str | None = None,
) -> dict[str, Any]:
    """An incident started (detected or reported); name at most one explicit cause."""
    content: dict[str, Any] = {"environment": {"id": environment}}
    if service:
        content["service"] = {"id": service}
    if kind == "incident.reported":
        content["ticketURI"] = f"https://tickets.example/{incident}"
    return make_event(
        kind, id=id, at=at, subject_id=incident, source=source, content=content,
        custom={"severity": severity, "caused_by_deployment": caused_by_deployment,
                "caused_by_change": caused_by_change, "caused_by_commit": caused_by_commit},
    )


def incident_resolved(
    *, id: str, at: datetime | str, incident: str, service: str | None = None,
    environment: str = "production", source: str = DEFAULT_SOURCE,
) -> dict[str, Any]:
    """The incident ended."""
    content: dict[str, Any] = {"environment": {"id": environment}}
    if service:
        content["service"] = {"id": service}
    return make_event("incident.resolved", id=id, at=at, subject_id=incident, source=source, content=content)


def pipelinerun(
    *, id: str, at: datetime | str, run: str, pipeline: str, predicate: str = "finished",
    outcome: str | None = None, service: str | None = None, source: str = DEFAULT_SOURCE,
    commit: str | None = None,
) -> dict[str, Any]:
    """A pipeline run started or finished (outcome: success / failure / cancel / error).

    `commit` (customData.commit) is the SHA the run built: it tells whether a run a gate stopped
    ever reached production (docs/metrics.md, "Gate stops").
    """
    content = _clean({"pipelineName": pipeline, "url": f"https://ci.example/{run}", "outcome": outcome})
    return make_event(f"pipelinerun.{predicate}", id=id, at=at, subject_id=run, source=source,
                      content=content, custom={"service": service, "commit": commit})


def taskrun(
    *, id: str, at: datetime | str, task_run: str, task: str, pipeline_run: str,
    predicate: str = "finished", outcome: str | None = None, source: str = DEFAULT_SOURCE,
) -> dict[str, Any]:
    """A stage (task) of a pipeline run started or finished."""
    content = _clean({"taskName": task, "url": f"https://ci.example/{task_run}",
                      "pipelineRun": {"id": pipeline_run}, "outcome": outcome})
    return make_event(f"taskrun.{predicate}", id=id, at=at, subject_id=task_run, source=source,
                      content=content)


def wrap_cloudevent(event: dict[str, Any]) -> dict[str, Any]:
    """The same CDEvent as a structured CloudEvent (the CDEvent in `data`)."""
    ctx = event["context"]
    return {"specversion": "1.0", "id": ctx["id"], "source": ctx["source"], "type": ctx["type"],
            "time": ctx["timestamp"], "datacontenttype": "application/json", "data": event}


def to_jsonl(events: Iterable[dict[str, Any]]) -> str:
    """Events as JSON Lines text."""
    return "".join(json.dumps(e, separators=(",", ":")) + "\n" for e in events)
