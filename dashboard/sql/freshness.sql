-- Data freshness per source (ingest origin): its last successful load, its last run, its newest record
-- and how many records it holds. Grain: one row per origin with any ingest run.
-- Records: annotations (dated process changes, newest by start date) and survey answers (newest by
-- response date) here, from their own tables; the event log's and GitHub's raw events are counted per
-- origin by freshness_events.sql (NULL and 0 here), which the dashboard fills in.
-- Runs: the snapshot's, and the runs a nightly job kept beside it since — runs that stored nothing
-- new, so the snapshot was not copied again for them (ingest.warehouse.keep_snapshot): the caller
-- registers those as `kept_runs` (ingest.warehouse.read_unpublished_runs; empty when there are none).
WITH every_run AS (
    SELECT run_id, origin, outcome, finished_at, message FROM ingest_runs
    UNION ALL
    SELECT run_id, origin, outcome, finished_at, message FROM kept_runs
    WHERE run_id NOT IN (SELECT run_id FROM ingest_runs)  -- a newer copy may hold them already
),
runs AS (
    SELECT origin,
        max(finished_at) FILTER (WHERE outcome <> 'failed')         AS last_success_at,
        arg_max(outcome, run_id)                                    AS last_outcome,
        arg_max(finished_at, run_id)                                AS last_run_at,
        arg_max(message, run_id)                                    AS last_message,
        count(*)                                                    AS runs
    FROM every_run GROUP BY origin
),
stored AS (
    SELECT 'annotations' AS origin, max(starts_on)::TIMESTAMPTZ AS newest_event_at, count(*) AS events
    FROM annotations
    UNION ALL
    SELECT 'survey', max(response_date)::TIMESTAMPTZ, count(*) FROM survey_responses
)
SELECT r.origin, r.last_success_at, r.last_outcome, r.last_run_at, r.last_message, r.runs,
       s.newest_event_at,
       coalesce(s.events, 0) AS events  -- a source whose every record was rejected has none
FROM runs r LEFT JOIN stored s USING (origin)
ORDER BY r.origin
