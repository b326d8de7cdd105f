"""Peer check: Apache DevLake's DORA end-to-end fixtures through our real pipeline.

Each test converts one of DevLake's fixtures to our event log (tests/devlake.py), ingests it with the
real ingest into a temp DuckDB, builds the metrics and compares every figure DevLake's expected output
gives. Where we differ on purpose, the difference is listed below with its rule and reason; the test
fails when an unlisted difference appears, when a listed one disappears, or when our side of a listed
one changes. docs/metrics.md ("Peer check: Apache DevLake's fixtures") documents the same list.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from metrics.build import MetricSettings
from tests import devlake
from tests.devlake import minutes_up, parse_time, read_rows

pytestmark = pytest.mark.skipif(
    not devlake.FIXTURES.is_dir(),
    reason=f"Apache DevLake's fixtures are not at {devlake.FIXTURES} (../shared/devlake_fixtures beside the clone)")

# --- why we differ: the rules, each with its reason -------------------------------------------

EXPLICIT_LIST_ON_FIRST_DEPLOYMENT = (
    "contract §2: a deployment's explicit `changes` list is taken as given, also on a service's first "
    "deployment (commit1 is project1/REPO111's first, and DevLake's commit graph puts pr0's merge in it); "
    "DevLake credits a pull request only to a deployment with a previous successful one "
    "(prev_success_deployment_commit_id <> '')")
NOT_IN_PRODUCTION = (
    "contract §2: a change has a lead time, and a breakdown, once a production deployment shipped it "
    "(until then it is the finding change_not_deployed: pr4 reached only staging, pr5's deployment "
    "failed); DevLake reports the pull request's stages anyway, and a cycle time ending at the merge")
DEPLOYED_BEFORE_MERGE = (
    "contract §2: lead time ends at the finish of the first production deployment that shipped the "
    "change — for pr3 a day before its recorded merge; DevLake drops the negative merge→deploy span "
    "and ends the cycle time at the merge")
CODING_FROM_LEAD_START = (
    "docs/metrics.md, Lead-time breakdown: coding runs from where lead time starts (the earliest of "
    "first commit, opened and merged) to the opening, so pr2's first commit, dated after its opening "
    "(a rebased branch), makes coding 0 and the four stages add up to the lead time; DevLake leaves the "
    "negative first-commit→opened span empty")
ATTRIBUTION_WINDOW = (
    "contract §2: without an explicit link an incident goes to its service's latest production "
    "deployment only if it started within the attribution window (24 h) of its finish; these incidents "
    "started 7 to 9 weeks after the last deployment, and DevLake has no time limit")
SERVICE_SCOPE = (
    "contract §2: attribution looks at the incident's own service (repo2 → project1/REPO222, last "
    "deployed by pipeline6); DevLake takes the project's latest production deployment of any "
    "repository (pipeline7 deployed REPO111 and REPO333)")
NO_SERVICE = (
    "contract §2: an incident that names no service (this one was filed on a board, not a repository) "
    "is attributed to no deployment (attribution_rule no_service); DevLake attributes it within its "
    "project")
PREVIOUS_PER_SERVICE = (
    "contract §2: a deployment's previous one is its service's previous production deployment, "
    "whichever CI/CD scope ran it (cicd1 and cicd2 both deploy REPO111 for project1: one service); "
    "DevLake chains deployments per CI/CD scope (cicd_scope_id, repo_url, environment)")

# {(DevLake id, DevLake column): (our value, rule)}
INTENDED_LEAD_TIME = {
    ("pr0", "deployment_commit_id"): ("1", EXPLICIT_LIST_ON_FIRST_DEPLOYMENT),
    ("pr0", "pr_deployed_date"): (datetime(2023, 4, 10, 6, 52, 47, tzinfo=timezone.utc),
                                  EXPLICIT_LIST_ON_FIRST_DEPLOYMENT),
    ("pr0", "pr_deploy_time"): (610_681, EXPLICIT_LIST_ON_FIRST_DEPLOYMENT),
    ("pr0", "pr_cycle_time"): (655_321, EXPLICIT_LIST_ON_FIRST_DEPLOYMENT),
    ("pr2", "pr_coding_time"): (0, CODING_FROM_LEAD_START),
    ("pr3", "pr_cycle_time"): (8_799, DEPLOYED_BEFORE_MERGE),
    ("pr4", "pr_coding_time"): (None, NOT_IN_PRODUCTION),
    ("pr4", "pr_pickup_time"): (None, NOT_IN_PRODUCTION),
    ("pr4", "pr_cycle_time"): (None, NOT_IN_PRODUCTION),
    ("pr5", "pr_coding_time"): (None, NOT_IN_PRODUCTION),
    ("pr5", "pr_review_time"): (None, NOT_IN_PRODUCTION),
    ("pr5", "pr_cycle_time"): (None, NOT_IN_PRODUCTION),
}
INCIDENTS = "connect_incident_to_deployment"
INTENDED_INCIDENT_LINKS = {
    "github:GithubIssue:1:1367714738": (None, ATTRIBUTION_WINDOW),
    "github:GithubIssue:1:1370816458": (None, ATTRIBUTION_WINDOW),
    "github:GithubIssue:1:1371320153": (None, ATTRIBUTION_WINDOW),
    "github:GithubIssue:1:1372381019": (None, ATTRIBUTION_WINDOW + "; and " + SERVICE_SCOPE),
    "github:GithubIssue:1:1372644519": (None, ATTRIBUTION_WINDOW + "; and " + SERVICE_SCOPE),
    "github:GithubIssue:1:1373792478": (None, NO_SERVICE),
}
# the same incidents with the window opened wide: what is left is the service scope and the board
UNLIMITED_WINDOW = MetricSettings(attribution_window_hours=24 * 365 * 10)
INTENDED_INCIDENT_LINKS_WITHOUT_WINDOW = {
    "github:GithubIssue:1:1372381019": ("pipeline6", SERVICE_SCOPE),
    "github:GithubIssue:1:1372644519": ("pipeline6", SERVICE_SCOPE),
    "github:GithubIssue:1:1373792478": (None, NO_SERVICE),
}
INTENDED_PREVIOUS_DEPLOYMENTS = {
    "3": ("1", PREVIOUS_PER_SERVICE),
    "5": ("3", PREVIOUS_PER_SERVICE),
    "13": ("9", PREVIOUS_PER_SERVICE),
}

# project_pr_metrics.csv's expected columns we compare, and how DevLake's text reads. Not compared:
# id (the key), project_name (the mapping), first_commit_sha and first_review_id (our event log
# carries the first commit's and first review's times, compared here, not their ids).
MINUTES = ("pr_coding_time", "pr_pickup_time", "pr_review_time", "pr_deploy_time", "pr_cycle_time")
TIMES = ("first_commit_authored_date", "first_comment_date", "pr_created_date", "pr_merged_date",
         "pr_deployed_date")


def load(wh, events, settings=None):
    """Ingest for real and rebuild; DevLake's deployment commit 16 names no environment, which our
    event log requires: its line is rejected with the reason (DevLake leaves it out of every figure)."""
    run = wh.load(events, settings)
    assert [(events[line - 1]["context"]["id"], "environment" in reason)
            for _, line, reason in run.counts.reject_samples] == [("deployment-commit-16", True)]
    return run


def compare(expected: dict, ours: dict, intended: dict) -> int:
    """Every expected figure equals ours, except exactly the intended differences (with our value as
    listed); returns how many figures match."""
    assert ours.keys() == expected.keys()
    differences = {key: (expected[key], ours[key]) for key in expected if expected[key] != ours[key]}
    problems = [f"unlisted difference {key}: DevLake {dl!r}, ours {us!r}"
                for key, (dl, us) in differences.items() if key not in intended]
    problems += [f"listed difference {key} is gone: both {expected[key]!r}"
                 for key in intended if key not in differences]
    problems += [f"listed difference {key} changed: ours {differences[key][1]!r}, listed {value!r}"
                 for key, (value, _rule) in intended.items()
                 if key in differences and differences[key][1] != value]
    assert not problems, "\n".join(problems)
    return len(expected) - len(differences)


def test_change_lead_time_per_pull_request(wh):
    load(wh, devlake.change_lead_time_events())
    expected = {}
    for row in read_rows("change_lead_time/project_pr_metrics.csv"):
        expected[(row["id"], "deployment_commit_id")] = row["deployment_commit_id"] or None
        expected.update({(row["id"], column): int(row[column]) if row[column] else None for column in MINUTES})
        expected.update({(row["id"], column): parse_time(row[column]) for column in TIMES})
    ours = {}
    for (change_id, first_commit_at, first_review_at, opened_at, merged_at, deployment_id,
         delivered_at, lead_time_hours, coding, pickup, review, deploy_wait) in wh.rows(
            """SELECT c.change_id, c.first_commit_at, c.first_review_at, c.opened_at, c.merged_at,
                      d.deployment_id, l.delivered_at, l.lead_time_hours,
                      s.coding_hours, s.pickup_hours, s.review_hours, s.deploy_wait_hours
               FROM fct_changes c
               LEFT JOIN fct_lead_times l ON l.change_id = c.change_id AND l.environment = 'production'
               LEFT JOIN fct_deployments d ON d.deployment_key = l.deployment_key
               LEFT JOIN fct_change_stages s ON s.change_id = c.change_id AND s.environment = 'production'"""):
        ours.update({
            (change_id, "deployment_commit_id"): deployment_id,
            (change_id, "pr_coding_time"): minutes_up(coding),
            (change_id, "pr_pickup_time"): minutes_up(pickup),
            (change_id, "pr_review_time"): minutes_up(review),
            (change_id, "pr_deploy_time"): minutes_up(deploy_wait),
            (change_id, "pr_cycle_time"): minutes_up(lead_time_hours),
            (change_id, "first_commit_authored_date"): first_commit_at,
            (change_id, "first_comment_date"): first_review_at,
            (change_id, "pr_created_date"): opened_at,
            (change_id, "pr_merged_date"): merged_at,
            (change_id, "pr_deployed_date"): delivered_at,
        })
    assert compare(expected, ours, INTENDED_LEAD_TIME) == 66 - len(INTENDED_LEAD_TIME)


def incident_links(wh, settings=None) -> tuple[dict, dict]:
    """DevLake's expected deployment (pipeline) per incident, and ours, for the incident fixture."""
    mapping = read_rows(f"{INCIDENTS}/raw_tables/project_mapping.csv")
    incidents = read_rows(f"{INCIDENTS}/raw_tables/incidents.csv")
    deployments, pipelines = devlake.deployment_events(
        read_rows(f"{INCIDENTS}/prev_success_deployment_commit/cicd_deployment_commits_after.csv"), mapping)
    load(wh, deployments + devlake.incident_events(incidents, mapping), settings)
    links = {row["id"]: row["deployment_id"]
             for row in read_rows(f"{INCIDENTS}/snapshot_tables/project_incident_deployment_relationships.csv")}
    # an incident DevLake does not link (or, outside project1, does not look at) has no deployment
    expected = {incident["id"]: links.get(incident["id"]) for incident in incidents}
    ours = {incident_id: pipelines.get(deployment_id) for incident_id, deployment_id in wh.rows(
        """SELECT i.incident_id, d.deployment_id FROM fct_incidents i
           LEFT JOIN fct_deployments d ON d.deployment_key = i.deployment_key""")}
    return expected, ours


def test_incident_to_deployment_links(wh):
    expected, ours = incident_links(wh)
    assert compare(expected, ours, INTENDED_INCIDENT_LINKS) == 1


def test_incident_links_without_the_attribution_window(wh):
    expected, ours = incident_links(wh, UNLIMITED_WINDOW)
    assert compare(expected, ours, INTENDED_INCIDENT_LINKS_WITHOUT_WINDOW) == 4


def test_previous_successful_deployment(wh):
    folder = "prev_success_deployment_commit"
    before = read_rows(f"{folder}/cicd_deployment_commits_before.csv")
    events, _ = devlake.deployment_events(before, read_rows(f"{folder}/project_mapping.csv"))
    load(wh, events)
    expected = {row["id"]: row["prev_success_deployment_commit_id"] or None
                for row in read_rows(f"{folder}/cicd_deployment_commits_after.csv")}
    # a failed deployment commit is no deployment of ours, and has no previous one
    ours = {row["id"]: None for row in before}
    ours.update(wh.rows("SELECT deployment_id, previous_deployment_id FROM fct_deployments"))
    assert compare(expected, ours, INTENDED_PREVIOUS_DEPLOYMENTS) == 13
