-- stg_github__releases: releases (GraphQL nodes in gh_batch) into stg_events.
-- Grain: one deployment row per published release (drafts are not releases; prereleases only with
-- $include_prereleases), finished at publishedAt, deploying the commit its tag points at.
-- Service: the monorepo service whose tag_prefix the tag starts with, else the repository's service.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome
)
WITH releases AS (
    SELECT source, event_id, payload::JSON AS p FROM gh_batch
),
fields AS (
    SELECT source, event_id,
        json_extract_string(p, '$.databaseId')                                  AS github_id,
        json_extract_string(p, '$.tagName')                                     AS tag,
        json_extract_string(p, '$.name')                                        AS name,
        TRY_CAST(json_extract_string(p, '$.publishedAt') AS TIMESTAMPTZ)        AS published_at,
        json_extract_string(p, '$.createdAt')::TIMESTAMPTZ                      AS created_at,
        coalesce(TRY_CAST(json_extract_string(p, '$.isDraft') AS BOOLEAN), false)      AS is_draft,
        coalesce(TRY_CAST(json_extract_string(p, '$.isPrerelease') AS BOOLEAN), false) AS is_prerelease,
        json_extract_string(p, '$.tagCommit.oid')                               AS commit_sha
    FROM releases
),
served AS (
    SELECT *,
        coalesce((SELECT r.svc FROM (SELECT unnest($tag_matches::VARCHAR[]) AS prefix,
                                            unnest($tag_services::VARCHAR[]) AS svc) r
                  WHERE starts_with(tag, r.prefix) ORDER BY length(r.prefix) DESC LIMIT 1), $service) AS svc
    FROM fields
    WHERE NOT is_draft AND published_at IS NOT NULL AND (NOT is_prerelease OR $include_prereleases)
)
SELECT 'github', source, event_id, $run_id, 'deployment', 'deployed', published_at, svc, svc,
       $environment, $source || ':release:' || github_id, commit_sha, $repository, NULL, NULL, created_at,
       false, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, coalesce(name, tag), NULL, NULL, NULL,
       NULL, NULL, NULL, 'success'
FROM served
WHERE svc IS NOT NULL
