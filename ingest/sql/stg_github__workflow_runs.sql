-- stg_github__workflow_runs: runs of deploy workflows (REST payloads in gh_batch) into stg_events.
-- Grain: one deployment row per run that completed with conclusion `success`; skipped, cancelled,
-- failed and timed-out runs are kept raw and are not deployments. A re-run replaces its run
-- (same id). The run finished at its updated_at; it started at run_started_at. Service: the
-- monorepo service whose workflows list this workflow's file, else the repository's service.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome
)
WITH runs AS (
    SELECT source, event_id, payload::JSON AS p FROM gh_batch
),
fields AS (
    SELECT source, event_id,
        json_extract_string(p, '$.id')                                          AS github_id,
        regexp_extract(json_extract_string(p, '$.path'), '([^/]+)$', 1)        AS workflow_file,
        json_extract_string(p, '$.name')                                        AS workflow_name,
        json_extract_string(p, '$.status')                                      AS status,
        json_extract_string(p, '$.conclusion')                                  AS conclusion,
        json_extract_string(p, '$.updated_at')::TIMESTAMPTZ                     AS finished_at,
        TRY_CAST(json_extract_string(p, '$.run_started_at') AS TIMESTAMPTZ)     AS started_at,
        json_extract_string(p, '$.head_sha')                                    AS commit_sha,
        json_extract_string(p, '$.actor.login')                                 AS author
    FROM runs
),
served AS (
    SELECT *,
        coalesce(($workflow_services::VARCHAR[])[list_position($workflow_matches::VARCHAR[], workflow_file)], $service) AS svc
    FROM fields
    WHERE status = 'completed' AND conclusion = 'success'
)
SELECT 'github', source, event_id, $run_id, 'deployment', 'deployed', finished_at, svc, svc,
       $environment, $source || ':workflow_run:' || github_id, commit_sha, $repository, NULL, NULL, started_at,
       false, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, author, workflow_name, NULL, NULL, NULL,
       workflow_name, NULL, github_id, conclusion
FROM served
WHERE svc IS NOT NULL
