-- build_changed_inputs: what changed since the last build (build_info.last_run_id), as the input
-- names metrics.build.MODEL_INPUTS uses; one row per changed input. Grain: input.
--   stg:<kind>        staged rows of that kind were added by a later run, or the kind's count is not
--                     the recorded count plus those (rows deleted or replaced: re-staging)
--   survey_responses  a survey run since
--   rejects           rejected lines stored since (dq_findings lists them)
--   everything        a run of an origin whose rows may be replaced or updated in place (GitHub:
--                     re-read windows, relinking, sync times in fct_coverage), or of an origin this
--                     query does not know: only a full rebuild is safe
-- Parameters: $known_origins (origins that only add staged rows, or stage none).
WITH last_build AS (
    SELECT coalesce(max(last_run_id), -1) AS run_id FROM build_info
),
now AS (
    SELECT kind, count(*) AS staged,
        count(*) FILTER (WHERE ingest_run_id > (SELECT run_id FROM last_build)) AS added
    FROM stg_events
    GROUP BY kind
),
recorded AS (
    SELECT kind, sum(staged) AS staged FROM build_inputs GROUP BY kind
),
runs_since AS (
    SELECT origin FROM ingest_runs WHERE run_id > (SELECT run_id FROM last_build) AND outcome <> 'failed'
)
SELECT 'stg:' || kind AS input
FROM now n FULL JOIN recorded r USING (kind)
WHERE coalesce(n.added, 0) > 0 OR coalesce(n.staged, 0) <> coalesce(r.staged, 0) + coalesce(n.added, 0)
UNION ALL
SELECT 'survey_responses' WHERE EXISTS (SELECT 1 FROM runs_since WHERE origin = 'survey')
UNION ALL
SELECT 'rejects' WHERE EXISTS (SELECT 1 FROM rejects WHERE ingest_run_id > (SELECT run_id FROM last_build))
UNION ALL
SELECT 'everything' WHERE EXISTS (SELECT 1 FROM runs_since WHERE NOT list_contains($known_origins, origin))
