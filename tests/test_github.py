"""GitHub ingestion against a fake GitHub on loopback, driven by the real PyGithub client."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dora.jobs import run_eventlog_ingest
from tools import cdevents
from ingest.github import DeploymentRef, RepoSettings, ServiceRule, link_shipped_commits, normalise_page
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings, build_metrics
from tests.fakegithub import (
    Deployment, FakeGitHub, Release, build_history, deployments_as_runs, rounded, run_github, warehouse_state,
)

UTC = timezone.utc
PAYMENTS = RepoSettings("acme/payments", service="payments", revert_incidents=True)


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def db(tmp_path: Path):
    path = tmp_path / "dora.duckdb"
    con = open_warehouse(path)
    yield con, path
    con.close()


def metric_rows(con) -> list[tuple]:
    return rounded(con.execute("SELECT * FROM metric_periods ORDER BY grain, period_start, service, environment").fetchall())


def metrics_alike(synced, logged) -> bool:
    """The metrics of a warehouse synced from GitHub equal those of the same history as an event log,
    but for coverage: a GitHub sync covers up to the sync (contract §2), an event log up to its last
    event. So the periods up to the event log's last event, without the per-observed-day figures, are
    equal, and the synced warehouse's later periods are quiet."""
    last_day = logged.execute("SELECT last_day FROM fct_coverage").fetchall()[0][0]
    assert synced.execute("SELECT last_day FROM fct_coverage").fetchall()[0][0] >= last_day
    query = """SELECT * EXCLUDE (observed_days, deploys_per_day) FROM metric_periods WHERE period_start <= $last_day
               ORDER BY grain, period_start, service, environment"""
    later = synced.execute("SELECT count(*) FILTER (WHERE deployments > 0 OR incidents > 0) FROM metric_periods "
                           "WHERE period_start > $last_day", {"last_day": last_day}).fetchall()
    return (rounded(synced.execute(query, {"last_day": last_day}).fetchall())
            == rounded(logged.execute(query, {"last_day": last_day}).fetchall()) and later == [(0,)])


# ------------------------------------------------------------------------------------------------
# The acceptance test: the same history through GitHub and through the event log


def test_metrics_from_github_equal_metrics_from_the_same_history_as_an_event_log(fake, db, tmp_path):
    history = build_history(n_prs=45, n_deployments=16, n_incidents=9, n_reverts=3)
    fake.add(history.repo)
    con, path = db
    result = run_github(con, path, fake, [PAYMENTS])
    assert [s.outcome for s in result.sources] == ["ok"] and result.metrics_ok

    log = tmp_path / "events.jsonl"
    log.write_text(cdevents.to_jsonl(history.to_events()))
    other = open_warehouse(tmp_path / "eventlog.duckdb")
    run_eventlog_ingest(other, tmp_path / "eventlog.duckdb", [str(log)], MetricSettings())

    assert metrics_alike(con, other)
    assert len(metric_rows(other)) > 10
    for sql in [
        "SELECT change_id, environment, round(lead_time_hours, 6), lead_start_field FROM fct_lead_times ORDER BY ALL",
        "SELECT incident_id, started_at, resolved_at, attribution_rule, severity FROM fct_incidents ORDER BY ALL",
        "SELECT finished_at, commit_sha, unplanned FROM fct_deployments ORDER BY ALL",
        "SELECT d.finished_at, f.reason, f.recovered_at FROM fct_failures f JOIN fct_deployments d USING (deployment_key) ORDER BY ALL",
        # the first review by someone other than the author (the builder knows it independently)
        "SELECT subject_id, first_review_at FROM stg_events WHERE kind = 'change_merged' ORDER BY ALL",
    ]:
        assert con.execute(sql).fetchall() == other.execute(sql).fetchall(), sql
    # every way of merging was linked by the commit graph, and explicit links attributed incidents
    methods = {p.method for p in history.repo.pulls}
    assert methods == {"squash", "merge", "rebase"}
    assert con.execute("SELECT DISTINCT rule FROM fct_deployment_changes").fetchall() == [("commit_graph",)]
    # causes stated in each documented form, and reverts, were read as explicit links; guesses were not
    rules = dict(con.execute("SELECT attribution_rule, count(*) FROM fct_incidents GROUP BY 1").fetchall())
    assert {"caused_by_change", "caused_by_commit", "caused_by_deployment"} <= set(rules), rules
    read = con.execute("SELECT DISTINCT cause_rule FROM stg_events WHERE cause_rule IS NOT NULL ORDER BY 1").fetchall()
    assert read == [("body: caused by #N",), ("body: caused by deployment <id>",), ("body: regression from <sha>",),
                    ("body: regression from owner/name#N",), ("revert: Reverts owner/name#N",)]
    assert con.execute("SELECT count(*) FROM fct_deployments WHERE unplanned").fetchall()[0][0] >= 1
    other.close()


def test_the_same_history_from_both_sources_is_counted_once(fake, db, tmp_path):
    history = build_history(n_prs=30, n_deployments=10, n_incidents=4)
    fake.add(history.repo)
    log = tmp_path / "events.jsonl"
    log.write_text(cdevents.to_jsonl(history.to_events()))
    con, path = db
    result = run_github(con, path, fake, [PAYMENTS], eventlog=[str(log)])
    assert [s.outcome for s in result.sources] == ["ok", "ok"]
    other = open_warehouse(tmp_path / "eventlog.duckdb")
    run_eventlog_ingest(other, tmp_path / "eventlog.duckdb", [str(log)], MetricSettings())
    assert metrics_alike(con, other)
    assert con.execute("SELECT list(DISTINCT origins) FROM fct_deployments").fetchall() == [([["eventlog"]],)]
    other.close()


def test_each_merge_method_links_the_pr_to_the_deployment_that_shipped_it(fake, db):
    history = build_history(n_prs=24, n_deployments=9, n_incidents=0)
    fake.add(history.repo)
    con, path = db
    run_github(con, path, fake, [PAYMENTS])
    linked = dict(con.execute(
        """SELECT l.change_id, d.deployment_id FROM fct_deployment_changes l
           JOIN fct_deployments d USING (deployment_key)""").fetchall())
    expected = {f"acme/payments#{n}": f"github:acme/payments:deployment:{d}"
                for d, numbers in history.shipped.items() for n in numbers}
    assert linked == expected
    by_method = {p.method for p in history.repo.pulls if f"acme/payments#{p.number}" in linked}
    assert by_method == {"squash", "merge", "rebase"}


def test_the_first_review_skips_the_authors_own_reviews_at_no_extra_call(fake, db):
    history = build_history(n_prs=30, n_deployments=4, n_incidents=0)
    pulls = history.repo.pulls
    own_first = [p for p in pulls if p.reviews and p.reviews[0][0] == p.author]
    assert any(p.first_review for p in own_first) and any(not p.first_review for p in own_first)
    # the first 10 reviews the query reads are all the author's: the 11th, another's, is not read
    many = pulls[0]
    many.reviews = [(many.author, many.created + timedelta(minutes=m)) for m in range(10)] + [
        ("reviewer", many.created + timedelta(hours=1))]
    fake.add(history.repo)
    con, path = db
    run_github(con, path, fake, [PAYMENTS])
    staged = dict(con.execute("SELECT subject_id, first_review_at FROM stg_events WHERE kind = 'change_merged'").fetchall())
    expected = {f"acme/payments#{p.number}": p.first_review for p in pulls if p is not many}
    assert {k: v for k, v in staged.items() if k != f"acme/payments#{many.number}"} == expected
    assert staged[f"acme/payments#{many.number}"] is None
    assert fake.count("graphql:PullRequests") == 1  # 30 PRs with their reviews: one page


# ------------------------------------------------------------------------------------------------
# Incremental runs


def test_a_second_run_with_no_new_data_changes_nothing_and_costs_at_most_3_calls_per_stream(fake, db):
    fake.add(build_history(n_prs=30, n_deployments=10, n_incidents=4).repo)
    con, path = db
    run_github(con, path, fake, [PAYMENTS])
    run_github(con, path, fake, [PAYMENTS])  # the first incremental run stores the ETags it can use
    before = warehouse_state(con)
    fake.reset_counts()
    result = run_github(con, path, fake, [PAYMENTS])
    streams = len(PAYMENTS.streams())
    assert fake.count() <= 3 * streams
    assert fake.count("rest:issues", include_304=False) == 0  # answered 304: costs no budget
    assert warehouse_state(con) == before
    source = result.sources[0]
    assert (source.outcome, source.loaded, source.rejected) == ("ok", 0, 0)
    runs = con.execute("SELECT outcome FROM ingest_runs ORDER BY run_id").fetchall()
    assert runs == [("ok",), ("ok",), ("ok",)]


def test_a_late_change_to_a_pr_replaces_it_and_a_late_status_stages_the_deployment(fake, db):
    history = build_history(n_prs=20, n_deployments=8, n_incidents=2)
    repo = fake.add(history.repo)
    last = repo.deployments[-1]
    final = last.statuses.pop()  # still in progress at the first run
    con, path = db
    run_github(con, path, fake, [PAYMENTS])
    assert con.execute("SELECT count(*) FROM stg_events WHERE event_id = ?", [f"deployment:{last.id}"]).fetchall() == [(0,)]

    pull = repo.pulls[-3]
    pull.title, pull.labels = "Renamed after merge", pull.labels + ["hotfix"]
    pull.updated = repo.pulls[-1].updated + timedelta(hours=1)
    last.statuses.append(final)
    result = run_github(con, path, fake, [PAYMENTS])

    assert con.execute("SELECT count(*) FROM raw_events WHERE event_id = ?", [f"pull:{pull.number}"]).fetchall() == [(1,)]
    assert con.execute("SELECT title FROM stg_events WHERE event_id = ?", [f"pull:{pull.number}"]).fetchall() == [
        ("Renamed after merge",)]
    assert con.execute("SELECT kind FROM stg_events WHERE event_id = ?", [f"deployment:{last.id}"]).fetchall() == [
        ("deployment",)]
    assert result.sources[0].replaced >= 2
    commits = len(fake.reachable(repo, repo.heads["main"]))
    assert con.execute("SELECT count(*), count(DISTINCT (source, event_id)) FROM raw_events").fetchall()[0] == (
        commits + len(repo.pulls) + len(repo.deployments) + 2, ) * 2


def test_since_and_full_refresh_reread_without_duplicates(fake, db):
    fake.add(build_history(n_prs=25, n_deployments=8, n_incidents=3).repo)
    con, path = db
    run_github(con, path, fake, [PAYMENTS])
    clean = warehouse_state(con)
    fake.reset_counts()
    run_github(con, path, fake, [PAYMENTS], full_refresh=True)
    assert warehouse_state(con) == clean
    assert fake.count("graphql:PullRequests") == 1
    run_github(con, path, fake, [PAYMENTS], since=datetime(2026, 1, 7).date())
    assert warehouse_state(con) == clean


def test_an_interrupted_backfill_resumes_where_it_stopped(fake, db, tmp_path):
    history = build_history(n_prs=40, n_deployments=6, n_incidents=2)
    fake.add(history.repo)
    con, path = db
    # pages of 10; the 3rd page of pull requests fails for good (retries exhausted)
    fake.inject("PullRequests", "500", times=10, skip=2)
    result = run_github(con, path, fake, [PAYMENTS], page_size=10, checkpoint_pages=1, max_retries=1)
    assert result.sources[0].outcome == "failed"
    stored = con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.pull_request'").fetchall()[0][0]
    assert stored == 20  # two committed pages; nothing of the failed one
    state = con.execute("SELECT pass_state, pass_cursor IS NOT NULL FROM ingest_watermarks WHERE stream = 'pulls'").fetchall()
    assert state == [("running", True)]

    fake.faults.clear()
    fake.reset_counts()
    result = run_github(con, path, fake, [PAYMENTS], page_size=10, checkpoint_pages=1)
    assert result.sources[0].outcome == "ok"
    assert fake.count("graphql:PullRequests") == 2  # pages 3-4 only, from the stored cursor

    clean = open_warehouse(tmp_path / "clean.duckdb")
    run_github(clean, tmp_path / "clean.duckdb", fake, [PAYMENTS], page_size=10)
    assert warehouse_state(con) == warehouse_state(clean)
    clean.close()


# ------------------------------------------------------------------------------------------------
# Deployments from workflow runs and releases; monorepos


def test_workflow_runs_count_only_successful_runs_as_deployments(fake, db):
    history = build_history(n_prs=20, n_deployments=8, n_incidents=0)
    deployments_as_runs(history)
    fake.add(history.repo)
    con, path = db
    repo = RepoSettings("acme/payments", service="payments", deployments="workflow_runs", workflows=("deploy.yml",))
    run_github(con, path, fake, [repo])
    conclusions = dict(con.execute(
        """SELECT json_extract_string(payload, '$.conclusion'), count(*) FROM raw_events
           WHERE event_type = 'github.workflow_run' GROUP BY 1""").fetchall())
    assert conclusions["skipped"] == 1 and conclusions["cancelled"] == 1 and conclusions["failure"] >= 1
    deployed = con.execute("SELECT count(*) FROM fct_deployments").fetchall()[0][0]
    assert deployed == conclusions["success"] == len(history.shipped)
    linked = con.execute("SELECT count(*) FROM fct_deployment_changes").fetchall()[0][0]
    assert linked == sum(len(v) for v in history.shipped.values())


def test_workflow_run_backfills_page_past_the_1000_result_cap(fake, db):
    history = build_history(n_prs=3, n_deployments=2, n_incidents=0)
    repo = fake.add(history.repo)
    head = repo.heads["main"]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    from tests.fakegithub import Run
    repo.runs = [Run(i, "deploy.yml", start + timedelta(minutes=i), start + timedelta(minutes=i, seconds=30),
                     head, "success") for i in range(1, 1206)]
    con, path = db
    settings = RepoSettings("acme/payments", deployments="workflow_runs", workflows=("deploy.yml",))
    run_github(con, path, fake, [settings])
    assert con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.workflow_run'").fetchall() == [(1205,)]
    # 10 pages up to GitHub's cap of 1,000, then a query below the oldest run seen: 206 runs, 3 pages
    assert fake.count("rest:runs") == 13


def test_releases_are_deployments_when_published(fake, db):
    history = build_history(n_prs=12, n_deployments=0, n_incidents=0)
    repo = fake.add(history.repo)
    chain = history.chain
    at = datetime(2026, 2, 1, tzinfo=UTC)
    repo.releases = [Release(1, "v1.0", at, at, chain[5]), Release(2, "v1.1", at + timedelta(days=1),
                     at + timedelta(days=1), chain[-1]),
                     Release(3, "v1.2-rc1", at + timedelta(days=2), at + timedelta(days=2), chain[-1], prerelease=True),
                     Release(4, "v2.0", at + timedelta(days=3), None, chain[-1], draft=True)]
    con, path = db
    run_github(con, path, fake, [RepoSettings("acme/payments", deployments="releases")])
    rows = con.execute("SELECT deployment_id, commit_sha FROM fct_deployments ORDER BY finished_at").fetchall()
    assert rows == [("github:acme/payments:release:1", chain[5]), ("github:acme/payments:release:2", chain[-1])]
    shipped = con.execute("SELECT count(*) FROM fct_deployment_changes").fetchall()[0][0]
    assert shipped == sum(1 for p in repo.pulls if p.merge_sha in chain[6:])


def test_monorepo_paths_link_each_pr_only_to_its_services_deployments(fake, db):
    history = build_history(n_prs=16, n_deployments=0, n_incidents=0)
    repo = fake.add(history.repo)
    for i, pull in enumerate(repo.pulls):
        pull.files = [["services/payments/api.py"], ["services/ledger/book.py"],
                      ["services/payments/x.py", "services/ledger/y.py"], ["README.md"]][i % 4]
    at = repo.pulls[-1].merged + timedelta(hours=1)
    mid = repo.pulls[7].merge_sha
    for n, (env, sha, when) in enumerate([("payments-production", history.chain[0], at - timedelta(days=30)),
                                         ("ledger-production", history.chain[0], at - timedelta(days=30)),
                                         ("payments-production", mid, at), ("ledger-production", repo.heads["main"], at)]):
        repo.deployments.append(Deployment(100 + n, when, sha, [("SUCCESS", when + timedelta(minutes=5))], env))
    con, path = db
    settings = RepoSettings("acme/platform" if False else "acme/payments", service=None, environments=(), services=(
        ServiceRule("payments", paths=("services/payments/",), environments=("payments-production",)),
        ServiceRule("ledger", paths=("services/ledger/",), environments=("ledger-production",))))
    run_github(con, path, fake, [settings])
    links = con.execute(
        """SELECT d.service, l.change_id FROM fct_deployment_changes l JOIN fct_deployments d USING (deployment_key)
           ORDER BY 1, 2""").fetchall()
    numbers = {p.number: i for i, p in enumerate(repo.pulls)}
    payments = sorted(f"acme/payments#{n}" for n, i in numbers.items() if i <= 7 and i % 4 in (0, 2))
    ledger = sorted(f"acme/payments#{n}" for n, i in numbers.items() if i % 4 in (1, 2))
    assert links == [("ledger", c) for c in ledger] + [("payments", c) for c in payments]


# ------------------------------------------------------------------------------------------------
# Linking and normalising without I/O (literal rows)


def ref(event_id, service, sha, minute):
    return DeploymentRef(event_id, service, sha, datetime(2026, 1, 1, 0, minute, tzinfo=UTC), event_id)


def test_link_shipped_commits_literal_chain():
    # a - b - c - d - e on main; x a side branch off b
    parents = {"a": None, "b": "a", "c": "b", "d": "c", "e": "d", "x": "b"}
    links = link_shipped_commits(parents, [
        ref("d1", "s", "b", 1),   # first deployment ever: ships nothing
        ref("d2", "s", "d", 2),   # c, d
        ref("d3", "s", "d", 3),   # the same commit again: nothing
        ref("d4", "s", "c", 4),   # a rollback to an ancestor: nothing
        ref("d5", "s", "e", 5),   # d, e: measured from the previous deployment (c)
        ref("d6", "s", "x", 6),   # not a descendant of e: unknown (merge-window rule applies)
        ref("d7", "s", "zz", 7),  # a commit the history does not have: unknown
        ref("o1", "other", "a", 1), ref("o2", "other", "e", 2),
    ], hotfix_commits=frozenset({"e"}))
    assert links == {"d1": ([], False), "d2": (["d", "c"], False), "d3": ([], False), "d4": ([], False),
                     "d5": (["e", "d"], True), "d6": (None, False), "d7": (None, False),
                     "o1": ([], False), "o2": (["e", "d", "c", "b"], True)}


def test_link_shipped_commits_in_a_monorepo_keeps_only_the_services_prs():
    parents = {"a": None, "b": "a", "c": "b"}
    links = link_shipped_commits(parents, [ref("p1", "pay", "a", 1), ref("p2", "pay", "c", 2)],
                                 pr_services={"b": frozenset({"ledger"}), "c": frozenset({"pay", "ledger"})})
    assert links == {"p1": ([], False), "p2": (["c"], False)}


def test_malformed_payloads_are_rejected_with_their_reason():
    good = {"number": 1, "mergedAt": "2026-01-01T00:00:00Z", "updatedAt": "2026-01-01T00:00:00Z"}
    records, rejects = normalise_page("pulls", [
        good, {"title": "no number"}, {"number": 2, "mergedAt": "yesterday", "updatedAt": "2026-01-01T00:00:00Z"},
        {**good, "number": 3, "mergeCommit": {"oid": "not-a-sha"}}, "a string"])
    assert [r.event_id for r in records] == ["pull:1"]
    assert [r.reason for r in rejects] == [
        "pull request without a number",
        "pull request #2: mergedAt is missing or not an ISO 8601 timestamp with an offset",
        "pull request #3: mergeCommit.oid is not a commit SHA",
        "pull request is not a JSON object"]
    records, rejects = normalise_page("issues", [{"number": 5, "pull_request": {}, "created_at": "x"}])
    assert (records, rejects) == ([], [])  # pull requests in the issues list are skipped, not rejected


def test_a_malformed_payload_is_stored_as_a_reject_and_the_rest_loads(fake, db):
    history = build_history(n_prs=10, n_deployments=4, n_incidents=2)
    repo = fake.add(history.repo)
    repo.issues[0].created = None  # GitHub would never: the payload has created_at null
    con, path = db
    result = run_github(con, path, fake, [PAYMENTS])
    assert result.sources[0].outcome == "rejects" and result.sources[0].rejected == 1
    rows = con.execute("SELECT origin, file, reason FROM rejects").fetchall()
    assert rows == [("github", "github:acme/payments/issues:incident",
                     f"issue #{repo.issues[0].number}: created_at is missing or not an ISO 8601 timestamp with an offset")]
    assert con.execute("SELECT count(*) FROM raw_events WHERE event_type = 'github.pull_request'").fetchall() == [(10,)]
    run_github(con, path, fake, [PAYMENTS])
    assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(1,)]  # seen again: kept once


# ------------------------------------------------------------------------------------------------
# Event log and GitHub about the same service: no double counting (literal rows)


def stage(con, rows: list[dict]) -> None:
    for r in rows:
        cols = ", ".join(r)
        con.execute(f"INSERT INTO stg_events (ingest_run_id, {cols}) VALUES (0, {', '.join('?' * len(r))})",
                    list(r.values()))


def dep(origin, event_id, at, sha, service="payments"):
    return {"origin": origin, "source": origin, "event_id": event_id, "kind": "deployment",
            "occurred_at": at, "subject_id": service, "service": service, "environment": "production",
            "deployment_id": event_id, "commit_sha": sha}


def test_the_event_log_is_authoritative_for_a_services_deployments(db):
    con, _ = db
    stage(con, [
        dep("github", "g1", "2026-01-01T10:00:00Z", "aaa"),   # before the event log knew the service: kept
        dep("github", "g2", "2026-01-02T09:59:00Z", "bbb"),   # same commit as the event log's first: the same deploy
        dep("eventlog", "e1", "2026-01-02T10:00:00Z", "bbb"),
        dep("github", "g3", "2026-01-03T10:00:00Z", "ccc"),   # after: the event log reports this service now
        dep("eventlog", "e2", "2026-01-03T10:00:05Z", "ccc"),
        dep("github", "g9", "2026-01-03T10:00:00Z", "zzz", service="ledger"),  # only GitHub knows ledger
    ])
    build_metrics(con, MetricSettings())
    rows = con.execute("SELECT service, deployment_id FROM fct_deployments ORDER BY finished_at, service").fetchall()
    assert rows == [("payments", "g1"), ("payments", "e1"), ("ledger", "g9"), ("payments", "e2")]


def test_github_enterprise_base_url_reaches_rest_and_graphql(db):
    with FakeGitHub(api_prefix="/api/v3") as ghe:
        ghe.add(build_history(n_prs=6, n_deployments=3, n_incidents=1).repo)
        con, path = db
        result = run_github(con, path, ghe, [PAYMENTS])
        assert result.sources[0].outcome == "ok"
        assert {route for route, _ in ghe.calls} == {"graphql:History", "graphql:PullRequests",
                                                      "graphql:Deployments", "rest:issues"}
        assert con.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(3,)]


def test_a_missing_production_branch_is_named(fake, db):
    fake.add(build_history(n_prs=4, n_deployments=2, n_incidents=0).repo)
    con, path = db
    result = run_github(con, path, fake, [RepoSettings("acme/payments", production_branch="trunk")])
    assert result.sources[0].message == "acme/payments: production branch 'trunk' not found; skipped"


def test_a_deployment_that_finishes_after_the_look_back_window_is_still_read(fake, db):
    history = build_history(n_prs=20, n_deployments=8, n_incidents=0)
    repo = fake.add(history.repo)
    waiting = repo.deployments[2]           # waits for approval for days
    statuses = list(waiting.statuses)
    waiting.statuses = statuses[:1]         # only QUEUED at the first run
    con, path = db
    run_github(con, path, fake, [PAYMENTS], lookback_days=1)
    key = f"deployment:{waiting.id}"
    assert con.execute("SELECT count(*) FROM stg_events WHERE event_id = ?", [key]).fetchall() == [(0,)]
    waiting.statuses = statuses
    run_github(con, path, fake, [PAYMENTS], lookback_days=1)
    assert con.execute("SELECT kind FROM stg_events WHERE event_id = ?", [key]).fetchall() == [("deployment",)]
    fake.reset_counts()
    run_github(con, path, fake, [PAYMENTS], lookback_days=1)
    assert fake.count("graphql:Deployments") == 1  # finished: the window is back to one day
