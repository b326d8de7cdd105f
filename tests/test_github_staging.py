"""The stg_github__* models, the commit-graph linker and incident attribution, on literal payloads (no server)."""
from __future__ import annotations

import pytest

from ingest.github import RepoSettings, ServiceRule, ensure_sync_tables, normalise_page, relink_repository, save_records
from ingest.github.causes import read_cause
from ingest.warehouse import open_warehouse, start_run
from metrics.build import MetricSettings, build_metrics

SHA = {n: n * 40 for n in ("a", "b", "c", "d", "e")}


@pytest.fixture
def con(tmp_path):
    connection = open_warehouse(tmp_path / "w.duckdb")
    ensure_sync_tables(connection)
    yield connection
    connection.close()


def save(con, repo: RepoSettings, stream: str, items: list[dict]):
    run = start_run(con, "github", repo.name)
    records, rejects = normalise_page(stream, items)
    counts = save_records(con, repo, stream, records, rejects, run, "production")
    relink_repository(con, repo)
    return counts


def deployment(id: int, sha: str, statuses: list[tuple[str, str]], env: str = "production") -> dict:
    return {"databaseId": id, "createdAt": "2026-01-01T10:00:00Z", "environment": env, "commitOid": sha,
            "statuses": {"nodes": [{"state": s, "createdAt": at} for s, at in statuses]}}


def test_a_deployment_counts_when_its_last_status_that_is_not_inactive_is_success(con):
    repo = RepoSettings("acme/payments")
    save(con, repo, "deployments", [
        # newest first, as GitHub lists statuses; superseded later (inactive): still a deployment
        deployment(1, SHA["a"], [("INACTIVE", "2026-01-02T00:00:00Z"), ("SUCCESS", "2026-01-01T10:05:00Z"),
                                 ("IN_PROGRESS", "2026-01-01T10:01:00Z")]),
        deployment(2, SHA["b"], [("FAILURE", "2026-01-01T11:05:00Z"), ("IN_PROGRESS", "2026-01-01T11:01:00Z")]),
        deployment(3, SHA["c"], [("IN_PROGRESS", "2026-01-01T12:01:00Z"), ("QUEUED", "2026-01-01T12:00:00Z")]),
        deployment(4, SHA["d"], [("SUCCESS", "2026-01-01T13:05:00Z"), ("ERROR", "2026-01-01T13:09:00Z")]),
        deployment(5, SHA["e"], [("success", "2026-01-01T14:05:00Z")]),  # REST-style lower case
    ])
    rows = con.execute("""SELECT deployment_id, service, environment, strftime(occurred_at, '%H:%M'), commit_sha
                          FROM stg_events WHERE kind = 'deployment' ORDER BY 1""").fetchall()
    assert rows == [("github:acme/payments:deployment:1", "payments", "production", "10:05", SHA["a"]),
                    ("github:acme/payments:deployment:5", "payments", "production", "14:05", SHA["e"])]
    assert con.execute("SELECT count(*) FROM raw_events").fetchall() == [(5,)]  # all kept raw


def test_monorepo_deployments_belong_to_the_service_of_their_environment(con):
    repo = RepoSettings("acme/platform", environments=(), services=(
        ServiceRule("billing", environments=("billing-production",)),
        ServiceRule("search", environments=("Search-Production",))))
    ok = [("SUCCESS", "2026-01-01T10:05:00Z")]
    save(con, repo, "deployments", [deployment(1, SHA["a"], ok, "billing-production"),
                                    deployment(2, SHA["b"], ok, "search-production"),
                                    deployment(3, SHA["c"], ok, "staging")])
    rows = con.execute("SELECT event_id, service FROM stg_events ORDER BY 1").fetchall()
    assert rows == [("deployment:1", "billing"), ("deployment:2", "search")]


def issue(number: int, body: str = "", labels: tuple[str, ...] = ("incident",), closed: str | None = None,
          title: str | None = None) -> dict:
    return {"number": number, "title": title or f"Incident {number}", "labels": [{"name": x} for x in labels],
            "state": "closed" if closed else "open", "created_at": "2026-01-03T00:00:00Z",
            "updated_at": "2026-01-03T01:00:00Z", "closed_at": closed, "body": body, "user": {"login": "oncall"}}


# An issue's text → the cause it states (kind, as read, rule), or None. docs/github.md lists the same.
CAUSE_TEXTS = [
    ("Caused by #75", ("change", "#75", "body: caused by #N")),
    ("Caused by: #75", ("change", "#75", "body: caused by #N")),
    ("Checkout is down. It was caused by #75.", ("change", "#75", "body: caused by #N")),
    ("Regression from #75", ("change", "#75", "body: regression from #N")),
    ("REGRESSION FROM #75 in the checkout", ("change", "#75", "body: regression from #N")),
    ("caused by owner/repo#75", ("change", "owner/repo#75", "body: caused by owner/name#N")),
    ("Root cause: acme/platform#13.", ("change", "acme/platform#13", "body: root cause owner/name#N")),
    ("caused by https://github.com/acme/platform/pull/14", ("change", "acme/platform#14", "body: caused by pull request URL")),
    ("Regression from https://github.com/acme/ledger/pull/75", ("change", "acme/ledger#75",
                                                             "body: regression from pull request URL")),
    ("caused by e3b7e00", ("commit", "e3b7e00", "body: caused by <sha>")),
    ("Regression from E3B7E00D", ("commit", "e3b7e00d", "body: regression from <sha>")),
    ("Root cause: ABCDEF1 in the cache layer", ("commit", "abcdef1", "body: root cause <sha>")),
    ("caused by https://github.com/acme/p/commit/" + "a" * 40, ("commit", "a" * 40, "body: caused by commit URL")),
    ("caused by deployment 12345", ("deployment", "12345", "body: caused by deployment <id>")),
    ("Caused by deployment deploy-42.", ("deployment", "deploy-42", "body: caused by deployment <id>")),
    ("**Caused by:** #75", ("change", "#75", "body: caused by #N")),
    ("Caused by [#75](https://github.com/acme/payments/pull/75)", ("change", "#75", "body: caused by #N")),
    ("Not the database. Caused by #75", ("change", "#75", "body: caused by #N")),
    ("maybe caused by #75; caused by #76", ("change", "#76", "body: caused by #N")),
    ("Caused by #75, not #76", ("change", "#75", "body: caused by #N")),
    # what does not count
    ("suspect #75", None),
    ("maybe caused by #75", None),
    ("Possibly caused by #75", None),
    ("possibly related to #75", None),
    ("see #75", None),
    ("probably a regression from #75", None),
    ("if it was caused by #75", None),
    ("caused by the cache", None),
    ("not caused by #75", None),
    ("This wasn\u2019t caused by #75", None),
    ("I think it was caused by #75", None),
    ("caused by #75?", None),
    ("No idea yet. Caused by the weather", None),
    ("caused by deployment of the new cache", None),
    ("Caused by #75x", None),
    ("caused by a6", None),
    ("```\nCaused by #75\n```", None),
    ("~~~\ncaused by #75\n~~~", None),
    ("Look: `caused by #75`", None),
    ("> Caused by #75\nwe disagree", None),
    ("<!-- e.g. Caused by #123 -->", None),
    ("~~Caused by #75~~ turned out wrong", None),
    ("", None),
]


@pytest.mark.parametrize("text, expected", CAUSE_TEXTS)
def test_a_cause_is_read_only_where_the_text_plainly_states_it(text, expected):
    cause = read_cause(None, text)
    assert ((cause.kind, cause.ref, cause.rule) if cause else None) == expected


def test_the_body_states_the_cause_before_the_title():
    assert read_cause("Regression from #75: checkout down", "no cause here").rule == "title: regression from #N"
    assert read_cause("Regression from #75", "Caused by e3b7e00").ref == "e3b7e00"
    assert read_cause("Possibly a regression from #75", None) is None


def test_incident_issues_their_severity_service_and_stated_causes(con):
    repo = RepoSettings("acme/platform", services=(ServiceRule("billing"), ServiceRule("search")))
    save(con, repo, "issues:incident", [
        issue(1, "Caused by: #12", ("incident", "Sev1"), closed="2026-01-03T02:30:00Z"),
        issue(2, "Root cause: acme/ledger#13.", ("incident", "billing")),
        issue(3, "caused by https://github.com/acme/platform/pull/14", ("incident", "service:search")),
        issue(4, "Root cause: ABCDEF1 in the cache layer", ("incident", "severity:high")),
        issue(5, "No idea yet. Caused by the weather"),
        issue(6, "not an incident", ("bug",)),
        issue(7, "caused by deployment 9001"),
        issue(8, "caused by deployment deploy-42"),
        issue(9, "maybe caused by #12"),
        issue(10, "", title="Regression from #15"),
    ])
    rows = con.execute("""SELECT subject_id, kind, service, severity, caused_by_change, caused_by_commit,
                                 caused_by_deployment, cause_rule
                          FROM stg_events ORDER BY subject_id, kind""").fetchall()
    assert rows == [
        ("acme/platform#1", "incident_resolved", None, "1", "acme/platform#12", None, None, "body: caused by #N"),
        ("acme/platform#1", "incident_started", None, "1", "acme/platform#12", None, None, "body: caused by #N"),
        ("acme/platform#10", "incident_started", None, None, "acme/platform#15", None, None,
         "title: regression from #N"),
        ("acme/platform#2", "incident_started", "billing", None, "acme/ledger#13", None, None,
         "body: root cause owner/name#N"),
        ("acme/platform#3", "incident_started", "search", None, "acme/platform#14", None, None,
         "body: caused by pull request URL"),
        ("acme/platform#4", "incident_started", None, "high", None, "abcdef1", None, "body: root cause <sha>"),
        ("acme/platform#5", "incident_started", None, None, None, None, None, None),
        # a bare number is one of the repository's own deployments; another id is taken as written
        ("acme/platform#7", "incident_started", None, None, None, None, "github:acme/platform:deployment:9001",
         "body: caused by deployment <id>"),
        ("acme/platform#8", "incident_started", None, None, None, None, "deploy-42",
         "body: caused by deployment <id>"),
        ("acme/platform#9", "incident_started", None, None, None, None, None, None),
    ]


def test_a_deployment_named_by_number_is_one_of_the_repositorys_own_kind(con):
    save(con, RepoSettings("acme/payments", deployments="workflow_runs", workflows=("deploy.yml",)),
         "issues:incident", [issue(1, "Caused by deployment 77")])
    assert con.execute("SELECT caused_by_deployment FROM stg_events").fetchall() == [
        ("github:acme/payments:workflow_run:77",)]


def test_an_incident_reference_resolves_to_the_first_deployment_that_shipped_it(con):
    repo = RepoSettings("acme/payments")
    history = [{"oid": SHA[x], "committedDate": "2026-01-01T00:00:00Z",
                "parents": {"nodes": [{"oid": SHA[p]}] if p else []}}
               for x, p in (("a", None), ("b", "a"), ("c", "b"), ("d", "c"))]
    save(con, repo, "commits", history)
    save(con, repo, "pulls", [{"number": 12, "mergedAt": "2026-01-01T12:00:00Z", "updatedAt": "2026-01-01T12:00:00Z",
                               "mergeCommit": {"oid": SHA["c"]}}])
    ok = lambda at: [("SUCCESS", at)]  # noqa: E731
    save(con, repo, "deployments", [deployment(1, SHA["a"], ok("2026-01-01T10:00:00Z")),
                                    deployment(2, SHA["d"], ok("2026-01-02T10:00:00Z")),
                                    deployment(3, SHA["d"], ok("2026-01-02T11:00:00Z"))])
    save(con, repo, "issues:incident", [issue(1, "Caused by: #12"), issue(2, "Caused by: " + SHA["b"][:9]),
                                        issue(3, "Caused by: #99"), issue(4, "Caused by: " + SHA["a"])])
    # staged as the issues name them; fct_incidents alone decides which deployment each is
    rows = con.execute("""SELECT subject_id, caused_by_change, caused_by_commit FROM stg_events
                          WHERE kind = 'incident_started' ORDER BY 1""").fetchall()
    assert rows == [
        ("acme/payments#1", "acme/payments#12", None),
        ("acme/payments#2", None, SHA["b"][:9]),
        ("acme/payments#3", "acme/payments#99", None),
        ("acme/payments#4", None, SHA["a"]),
    ]
    build_metrics(con, MetricSettings())
    attributed = con.execute("""SELECT i.incident_id, d.deployment_id, i.attribution_rule FROM fct_incidents i
                                LEFT JOIN fct_deployments d USING (deployment_key) ORDER BY 1""").fetchall()
    assert attributed == [
        # PR 12 (merge commit c) was shipped by deployment 2 (of d)
        ("acme/payments#1", "github:acme/payments:deployment:2", "caused_by_change"),
        # a short SHA of b: also shipped by deployment 2
        ("acme/payments#2", "github:acme/payments:deployment:2", "caused_by_commit"),
        # an unknown PR: reported unmatched
        ("acme/payments#3", None, "caused_by_change_unmatched"),
        # shipped by none (the first deployment ships nothing): the first deployment of that commit
        ("acme/payments#4", "github:acme/payments:deployment:1", "caused_by_commit"),
    ]
    shipped = con.execute("SELECT event_id, shipped_commits FROM stg_events WHERE kind = 'deployment' ORDER BY 1").fetchall()
    assert shipped == [("deployment:1", []), ("deployment:2", [SHA["d"], SHA["c"], SHA["b"]]), ("deployment:3", [])]


def test_an_incident_naming_a_pr_goes_to_the_event_logs_deployment_when_the_event_log_reports_the_service(con):
    repo = RepoSettings("acme/payments")
    history = [{"oid": SHA[x], "committedDate": "2026-01-01T00:00:00Z",
                "parents": {"nodes": [{"oid": SHA[p]}] if p else []}}
               for x, p in (("a", None), ("b", "a"), ("c", "b"), ("d", "c"))]
    save(con, repo, "commits", history)
    save(con, repo, "pulls", [{"number": 12, "mergedAt": "2026-01-01T12:00:00Z", "updatedAt": "2026-01-01T12:00:00Z",
                               "mergeCommit": {"oid": SHA["c"]}}])
    save(con, repo, "deployments", [deployment(1, SHA["a"], [("SUCCESS", "2026-01-01T10:00:00Z")]),
                                    deployment(2, SHA["d"], [("SUCCESS", "2026-01-02T10:00:00Z")])])
    # the pipeline's event log reports the same two deploys (it names no changes or commits shipped)
    for event_id, sha, at in (("e1", SHA["a"], "2026-01-01T10:00:05Z"), ("e2", SHA["d"], "2026-01-02T10:00:05Z")):
        con.execute("""INSERT INTO stg_events (origin, source, event_id, ingest_run_id, kind, occurred_at, subject_id,
                                               service, environment, deployment_id, commit_sha)
                       VALUES ('eventlog', 'eventlog', ?, 0, 'deployment', ?, 'payments', 'payments', 'production',
                               ?, ?)""", [event_id, at, event_id, sha])
    save(con, repo, "issues:incident", [issue(1, "Caused by: #12")])
    build_metrics(con, MetricSettings())
    attributed = con.execute("""SELECT i.incident_id, d.deployment_id, i.attribution_rule FROM fct_incidents i
                                LEFT JOIN fct_deployments d USING (deployment_key)""").fetchall()
    # GitHub's deployment 2 shipped PR 12's merge commit c; the event log's deployment of its commit d is e2
    assert attributed == [("acme/payments#1", "e2", "caused_by_change")]


def test_revert_prs_are_incidents_only_when_configured(con):
    pr = {"number": 20, "title": 'Revert "Change 12"', "body": "Reverts acme/payments#12",
          "createdAt": "2026-01-05T09:00:00Z", "mergedAt": "2026-01-05T09:30:00Z", "updatedAt": "2026-01-05T09:31:00Z",
          "mergeCommit": {"oid": SHA["e"]}}
    save(con, RepoSettings("acme/payments"), "pulls", [pr])
    assert con.execute("SELECT kind FROM stg_events").fetchall() == [("change_merged",)]
    save(con, RepoSettings("acme/payments", revert_incidents=True), "pulls", [pr])
    rows = con.execute("""SELECT kind, subject_id, strftime(occurred_at, '%H:%M'), caused_by_change, cause_rule
                          FROM stg_events ORDER BY kind""").fetchall()
    assert rows == [("change_merged", "acme/payments#20", "09:30", None, None),
                    ("incident_resolved", "acme/payments#20", "09:30", "acme/payments#12", "revert: Reverts owner/name#N"),
                    ("incident_started", "acme/payments#20", "09:00", "acme/payments#12", "revert: Reverts owner/name#N")]


def pull_with_reviews(number: int, author: str | None, reviews: list[tuple[str | None, str]]) -> dict:
    return {"number": number, "mergedAt": "2026-01-02T00:00:00Z", "updatedAt": "2026-01-02T00:00:00Z",
            "author": {"login": author} if author else None,
            "reviews": {"nodes": [{"submittedAt": at, "author": {"login": login} if login else None}
                                  for login, at in reviews]}}


def test_the_first_review_is_the_first_by_someone_other_than_the_author(con):
    save(con, RepoSettings("acme/payments"), "pulls", [
        # the author's own COMMENTED review (a note to reviewers) comes first: not a review
        pull_with_reviews(1, "ann", [("ann", "2026-01-01T09:00:00Z"), ("bob", "2026-01-01T11:00:00Z")]),
        # logins compare without case; reviews are not assumed to come in time order
        pull_with_reviews(2, "Ann", [("bob", "2026-01-01T12:00:00Z"), ("ANN", "2026-01-01T09:00:00Z"),
                                     ("cy", "2026-01-01T10:00:00Z")]),
        # only the author's own reviews among those read: no first review
        pull_with_reviews(3, "ann", [("ann", "2026-01-01T09:00:00Z"), ("ann", "2026-01-01T09:30:00Z")]),
        # a deleted account (no login) is someone else
        pull_with_reviews(4, "ann", [(None, "2026-01-01T08:00:00Z")]),
        pull_with_reviews(5, "ann", []),
    ])
    rows = con.execute("""SELECT subject_id, strftime(first_review_at, '%H:%M') FROM stg_events
                          ORDER BY 1""").fetchall()
    assert rows == [("acme/payments#1", "11:00"), ("acme/payments#2", "10:00"), ("acme/payments#3", None),
                    ("acme/payments#4", "08:00"), ("acme/payments#5", None)]


def test_a_review_time_that_is_not_a_timestamp_rejects_the_pull_request():
    records, rejects = normalise_page("pulls", [pull_with_reviews(1, "ann", [("bob", "yesterday")])])
    assert records == [] and [r.reason for r in rejects] == [
        "pull request #1: a review's submittedAt is not a timestamp"]


def test_a_key_read_again_replaces_its_raw_row_and_staged_rows(con):
    repo = RepoSettings("acme/payments")
    pr = {"number": 7, "title": "First title", "mergedAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}
    first = save(con, repo, "pulls", [pr])
    second = save(con, repo, "pulls", [{**pr, "title": "Edited", "updatedAt": "2026-01-02T00:00:00Z"}])
    assert (first.loaded, first.replaced, second.loaded, second.replaced) == (1, 0, 0, 1)
    assert con.execute("SELECT title FROM stg_events").fetchall() == [("Edited",)]
    assert con.execute("SELECT count(*) FROM raw_events").fetchall() == [(1,)]
