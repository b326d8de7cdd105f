"""Apache DevLake's DORA end-to-end fixtures, read in place, as our CDEvents event log.

The fixtures (`../shared/devlake_fixtures/`, Apache License 2.0, source in its README) are DevLake's
own inputs and expected outputs for three of its DORA subtasks. This module turns the inputs into the
events a CD system, a code host and an incident tool would write to our event log (tools/cdevents.py),
and reads DevLake's expected figures, so tests/test_devlake_fixtures.py can run our real pipeline on
the same facts and compare. docs/metrics.md ("Peer check: Apache DevLake's fixtures") explains the
mapping and every difference.

Mapping (the fixtures' project_mapping.csv decides which project a CI/CD scope or a repository is in):
- a service is one repository of one DevLake project, `<project>/<repo_url>` (`project1/REPO111`),
  whichever of the project's CI/CD scopes deployed it;
- a deployment is one successful deployment commit (cicd_deployment_commits): a `service.deployed`
  event at its finished_date, `deployment_id` its id, `commit` its commit_sha, `started_at` its
  started_date. Its pipeline (cicd_deployment_id, the id DevLake's incident links name) is not the
  deployment: one pipeline can deploy two commits of a repository one after the other (pipeline5).
  A FAILURE row shipped nothing, so it writes no event;
- a merged pull request is a `change.merged` event (change id = DevLake's PR id); its first commit is
  its earliest authored commit, its first review the first comment by someone other than its author;
- which changes a deployment shipped is DevLake's commit graph (commits_diffs: the merge commits
  between a deployment commit and the one before it), written as the deployment's explicit `changes`;
- an incident is an `incident.detected` in production at its created_date. One filed on a
  repository names that repository's service in its project; one filed on a board names no service.
  The fixtures name repositories two ways, `repo1` (ids) and `REPO111` (URLs); `repo<n>` is taken to
  be `REPO<nnn>`, as the numbering says.
"""
from __future__ import annotations

import csv
import math
import re
from datetime import datetime, timezone
from pathlib import Path

from tools import cdevents

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "devlake_fixtures"
SOURCE = "/devlake/e2e"


def read_rows(relative_path: str) -> list[dict[str, str]]:
    """The rows of one fixture CSV, as DevLake's e2e helper imports them (text, '' for empty)."""
    with (FIXTURES / relative_path).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def parse_time(text: str) -> datetime | None:
    """A fixture timestamp in UTC: RFC 3339 (`2023-04-10T06:51:47.000+00:00`), or DevLake's bare
    `2023-4-10 6:51:47`, which its e2e helper loads as UTC; None when empty."""
    if not text:
        return None
    if "T" in text:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def minutes_up(hours: float | None) -> int | None:
    """A span in DevLake's unit: whole minutes rounded up (its computeTimeSpan uses math.Ceil), and
    no value for a negative span (DevLake leaves it empty; we keep it in the fact table as a
    data-quality finding and leave it out of every statistic — the same figure either way)."""
    if hours is None or hours != hours or hours < 0:
        return None
    # timestamps are exact to the millisecond: rounding first keeps float noise from adding a minute
    return math.ceil(round(hours * 60, 6))


def projects_of(mapping: list[dict[str, str]], table: str) -> dict[str, str]:
    """{row id: project} for one kind of scope (`cicd_scopes`, `repos`, `boards`) in project_mapping."""
    return {row["row_id"]: row["project_name"] for row in mapping if row["table"] == table}


def repo_url_of(repo_id: str) -> str:
    """`repo1` → `REPO111`: the fixtures' two names for one repository."""
    digit = re.fullmatch(r"repo(\d)", repo_id)
    assert digit, f"unexpected repository id {repo_id!r}"
    return "REPO" + digit.group(1) * 3


def service_name(project: str, repo_url: str) -> str:
    """Our service for one repository of one DevLake project."""
    return f"{project}/{repo_url}"


def deployment_events(
    rows: list[dict[str, str]], mapping: list[dict[str, str]],
    changes_by_commit: dict[str, list[str]] | None = None,
) -> tuple[list[dict], dict[str, str]]:
    """`service.deployed` events for the successful deployment commits, and {deployment id:
    pipeline}. With `changes_by_commit`, every deployment lists the changes it shipped (an empty list
    when none)."""
    scope_projects = projects_of(mapping, "cicd_scopes")
    events, pipelines = [], {}
    for row in rows:
        if row["result"] != "SUCCESS":
            continue
        service = service_name(scope_projects[row["cicd_scope_id"]], row["repo_url"])
        changes = None if changes_by_commit is None else changes_by_commit.get(row["commit_sha"], [])
        events.append(cdevents.deployed(
            id=f"deployment-commit-{row['id']}", at=parse_time(row["finished_date"]), service=service,
            environment=row["environment"], deployment_id=row["id"],
            commit=row["commit_sha"], repository=row["repo_url"], changes=changes,
            started_at=parse_time(row["started_date"]), source=SOURCE))
        pipelines[row["id"]] = row["cicd_deployment_id"]
    return events, pipelines


def change_lead_time_events() -> list[dict]:
    """The change_lead_time fixture: every merged pull request and every deployment commit."""
    folder = "change_lead_time"
    mapping = read_rows(f"{folder}/project_mapping.csv")
    repo_projects = projects_of(mapping, "repos")
    commits = read_rows(f"{folder}/pull_request_commits.csv")
    comments = read_rows(f"{folder}/pull_request_comments.csv")
    pulls = [pr for pr in read_rows(f"{folder}/pull_requests.csv")
             if pr["merged_date"] and pr["base_repo_id"] in repo_projects]
    merge_commits = {pr["merge_commit_sha"]: pr["id"] for pr in pulls}
    changes_by_commit: dict[str, list[str]] = {}
    for diff in read_rows(f"{folder}/commits_diffs.csv"):
        if diff["commit_sha"] in merge_commits:
            changes_by_commit.setdefault(diff["new_commit_sha"], []).append(merge_commits[diff["commit_sha"]])
    events = []
    for pr in pulls:
        authored = [parse_time(c["commit_authored_date"]) for c in commits if c["pull_request_id"] == pr["id"]]
        reviews = [parse_time(c["created_date"]) for c in comments
                   if c["pull_request_id"] == pr["id"] and c["account_id"] != pr["author_id"]]
        events.append(cdevents.merged(
            id=f"merged-{pr['id']}", at=parse_time(pr["merged_date"]), change=pr["id"],
            repository=repo_url_of(pr["base_repo_id"]), first_commit_at=min(authored, default=None),
            opened_at=parse_time(pr["created_date"]), first_review_at=min(reviews, default=None),
            merged_at=parse_time(pr["merged_date"]), commit=pr["merge_commit_sha"],
            author=pr["author_id"] or None, source=SOURCE))
    deployments, _ = deployment_events(read_rows(f"{folder}/cicd_deployment_commits.csv"), mapping,
                                       {sha: sorted(prs) for sha, prs in changes_by_commit.items()})
    return events + deployments


def incident_events(incidents: list[dict[str, str]], mapping: list[dict[str, str]]) -> list[dict]:
    """`incident.detected` events in production; the service is the incident's repository's in its
    project (none for a board, or for a repository in no project)."""
    repo_projects = projects_of(mapping, "repos")
    events = []
    for incident in incidents:
        project = repo_projects.get(incident["scope_id"]) if incident["table"] == "repos" else None
        service = service_name(project, repo_url_of(incident["scope_id"])) if project else None
        events.append(cdevents.incident_detected(
            id=f"{incident['id']}-detected", at=parse_time(incident["created_date"]),
            incident=incident["id"], service=service, source=SOURCE))
    return events
