-- Data freshness per source (ingest origin): its last successful load, its last run and its newest event.
-- Grain: one row per origin with any ingest run.
WITH runs AS (
    SELECT origin,
        max(finished_at) FILTER (WHERE outcome <> 'failed')         AS last_success_at,
        arg_max(outcome, run_id)                                    AS last_outcome,
        arg_max(finished_at, run_id)                                AS last_run_at,
        arg_max(message, run_id)                                    AS last_message,
        count(*)                                                    AS runs
    FROM ingest_runs GROUP BY origin
),
newest AS (
    SELECT origin, max(occurred_at) AS newest_event_at, count(*) AS events
    FROM raw_events GROUP BY origin
)
SELECT r.origin, r.last_success_at, r.last_outcome, r.last_run_at, r.last_message, r.runs,
       n.newest_event_at,
       coalesce(n.events, 0) AS events  -- a source whose every record was rejected has none
FROM runs r LEFT JOIN newest n USING (origin)
ORDER BY r.origin
