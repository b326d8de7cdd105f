-- last_run_id: the newest ingest run recorded before a job starts (0 for none); every run of the job
-- has a larger id (ids come from one sequence). Grain: one row.
SELECT coalesce(max(run_id), 0) AS run_id FROM ingest_runs
