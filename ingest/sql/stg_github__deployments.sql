-- stg_github__deployments: GitHub Deployments (GraphQL nodes with their statuses, in gh_batch)
-- into stg_events. Grain: one deployment row per deployment whose final status is success.
-- The final status is the latest one that is not `inactive` (GitHub marks older deployments
-- inactive when a newer one succeeds: that is not a failure). A deployment whose final status is
-- failure or error never finished rolling out: it is kept raw and is not a deployment; one still
-- queued / in progress is staged when a later run sees its success (look-back window).
-- The deployment finished at its success status. shipped_commits is filled in by the linker
-- (relink_repository, ingest/github/save.py). Service: the monorepo service whose environments list the
-- deployment's environment, else the repository's service.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome
)
WITH deployments AS (
    SELECT source, event_id, payload::JSON AS p FROM gh_batch
),
statuses AS (
    SELECT d.event_id,
        upper(json_extract_string(s.value, '$.state'))                 AS state,
        json_extract_string(s.value, '$.createdAt')::TIMESTAMPTZ       AS status_at
    FROM deployments d, json_each(d.p, '$.statuses.nodes') s
),
final AS (
    SELECT event_id, arg_max(state, status_at) AS state, max(status_at) AS status_at
    FROM statuses
    WHERE state <> 'INACTIVE'
    GROUP BY event_id
),
fields AS (
    SELECT d.source, d.event_id, f.status_at AS finished_at,
        json_extract_string(d.p, '$.databaseId')                        AS github_id,
        json_extract_string(d.p, '$.environment')                       AS github_environment,
        json_extract_string(d.p, '$.createdAt')::TIMESTAMPTZ            AS created_at,
        json_extract_string(d.p, '$.commitOid')                         AS commit_sha,
        json_extract_string(d.p, '$.creator.login')                     AS author,
        json_extract_string(d.p, '$.description')                       AS description
    FROM deployments d JOIN final f USING (event_id)
    WHERE f.state = 'SUCCESS'
)
SELECT 'github', source, event_id, $run_id, 'deployment', 'deployed', finished_at,
       coalesce(($env_services::VARCHAR[])[list_position($env_matches::VARCHAR[], lower(github_environment))], $service),
       coalesce(($env_services::VARCHAR[])[list_position($env_matches::VARCHAR[], lower(github_environment))], $service),
       $environment, $source || ':deployment:' || github_id, commit_sha, $repository, NULL, NULL, created_at,
       false, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, author, description, NULL, NULL, NULL,
       NULL, NULL, NULL, 'success'
FROM fields
WHERE coalesce(($env_services::VARCHAR[])[list_position($env_matches::VARCHAR[], lower(github_environment))], $service) IS NOT NULL
