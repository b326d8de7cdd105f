-- github_pending_since: when the oldest stored item of one stream of $source that has not finished
-- yet was created, among those created since $since: an incremental pass reads back to it, because
-- these streams are ordered by creation but finish later (docs/github.md). Grain: one row, NULL
-- when none. Unfinished: a deployment with no success, failure or error status (waiting for
-- approval), a workflow run not completed (queued, waiting), a draft or unpublished release.
-- $workflow, when given, narrows workflow runs to that workflow file.
SELECT min(occurred_at) AS pending_since
FROM raw_events
WHERE source = $source AND event_type = $event_type AND occurred_at >= $since
  AND ($workflow IS NULL OR regexp_extract(json_extract_string(payload, '$.path'), '([^/]+)$', 1) = $workflow)
  AND CASE event_type
        WHEN 'github.deployment' THEN
            NOT list_has_any(list_transform(json_extract_string(payload, '$.statuses.nodes[*].state'),
                                            lambda s: upper(s)), ['SUCCESS', 'FAILURE', 'ERROR'])
        WHEN 'github.workflow_run' THEN coalesce(json_extract_string(payload, '$.status'), '') <> 'completed'
        WHEN 'github.release' THEN coalesce(json_extract_string(payload, '$.isDraft') = 'true', false)
                                   OR json_extract_string(payload, '$.publishedAt') IS NULL
      END
