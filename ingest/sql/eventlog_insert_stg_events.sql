-- eventlog_insert_stg_events: stage the event-log events that this chunk added (the view
-- new_events) into the source-neutral stg_events. Grain: one row per new event of a known kind;
-- unknown event types have no kind and stay raw only. The result is the number staged.
-- Parameters: $origin, $run_id.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome, traffic_percent,
    caused_by_change, cause_rule
)
SELECT
    $origin, source, event_id, $run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, NULL, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome, traffic_percent,
    caused_by_change, cause_rule
FROM new_events
WHERE kind IS NOT NULL
