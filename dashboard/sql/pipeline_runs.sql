-- The pipeline runs of one period (fct_pipeline_runs), slowest first: the records behind a point of the
-- pipeline page. A run belongs to the $grain period of its start (its finish when it has no start).
-- Grain: one row per pipeline run.
SELECT run_id, pipeline_name, service,
       commit_sha AS commit,
       started_at, finished_at, outcome, duration_minutes, ci_minutes, stopped_stage, stop_outcome
FROM fct_pipeline_runs
WHERE ($service = 'all' OR service = $service)
  AND period_start_of(local_day(coalesce(started_at, finished_at), $timezone), $grain) = $period_start
ORDER BY ci_minutes DESC NULLS LAST, duration_minutes DESC NULLS LAST, run_id
