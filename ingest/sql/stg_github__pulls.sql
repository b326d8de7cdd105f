-- stg_github__pulls: merged pull requests (GraphQL nodes in gh_batch) into
-- stg_events. Grain: one change_merged row per PR, subject_id `owner/name#number` (the event log's
-- change ids, so a PR reported by both sources is one change). With $revert_incidents, a merged
-- revert PR (GitHub's "Revert" button: title 'Revert "…"', body 'Reverts owner/name#N') is also an
-- incident: started when the revert was opened, resolved when it merged, caused by the reverted
-- PR (caused_by_change: its change id, cause_rule 'revert: Reverts owner/name#N'; fct_incidents
-- decides which deployment that is).
-- first_review_at: the earliest review submitted by someone other than the PR's author (contract §2),
-- among the first 10 the query reads (queries/pull_requests.graphql); a review whose author is gone
-- (a deleted account: no login) counts as someone else's; none by another among them: NULL.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome, caused_by_change, cause_rule
)
WITH prs AS (
    SELECT source, event_id, payload::JSON AS p FROM gh_batch
),
fields AS (
    SELECT source, event_id,
        $repository || '#' || json_extract_string(p, '$.number')                       AS change_id,
        json_extract_string(p, '$.mergedAt')::TIMESTAMPTZ                               AS merged_at,
        TRY_CAST(json_extract_string(p, '$.createdAt') AS TIMESTAMPTZ)                  AS opened_at,
        -- the earliest author date of its commits: author dates survive rebases, commit dates do not
        list_min(list_transform(json_extract_string(p, '$.commits.nodes[*].commit.authoredDate'),
                                lambda x: TRY_CAST(x AS TIMESTAMPTZ)))                  AS first_commit_at,
        -- the author's own reviews (replies to comments, notes to reviewers) are not a review
        list_min(list_transform(
            list_filter(json_extract(p, '$.reviews.nodes[*]'),
                        lambda r: coalesce(lower(json_extract_string(r, '$.author.login'))
                                           <> lower(json_extract_string(p, '$.author.login')), true)),
            lambda r: TRY_CAST(json_extract_string(r, '$.submittedAt') AS TIMESTAMPTZ)))  AS first_review_at,
        json_extract_string(p, '$.mergeCommit.oid')                                     AS commit_sha,
        TRY_CAST(json_extract_string(p, '$.additions') AS BIGINT)                       AS additions,
        TRY_CAST(json_extract_string(p, '$.deletions') AS BIGINT)                       AS deletions,
        json_extract_string(p, '$.author.login')                                        AS author,
        json_extract_string(p, '$.title')                                               AS title,
        json_extract_string(p, '$.body')                                                AS body
    FROM prs
),
reverts AS (
    SELECT *,
        regexp_extract(body, 'Reverts ([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]+)', 1)     AS reverted
    FROM fields
    WHERE $revert_incidents AND regexp_matches(coalesce(title, ''), '^Revert "')
)
SELECT 'github', source, event_id, $run_id, 'change_merged', 'merged', merged_at, change_id, $service,
       NULL, NULL, commit_sha, $repository, NULL, NULL, NULL,
       NULL, NULL, first_commit_at, opened_at, first_review_at, merged_at,
       additions, deletions, author, title, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL
FROM fields
UNION ALL
SELECT 'github', source, event_id, $run_id, kind, predicate, event_at, change_id, $service,
       $environment, NULL, NULL, $repository, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, author, title, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL,
       nullif(reverted, ''), CASE WHEN reverted <> '' THEN 'revert: Reverts owner/name#N' END
FROM reverts,
     (VALUES ('incident_started', 'detected'), ('incident_resolved', 'resolved')) k(kind, predicate),
     LATERAL (SELECT CASE kind WHEN 'incident_started' THEN coalesce(opened_at, merged_at) ELSE merged_at END AS event_at)
