-- snapshot_unpublished_runs: the ingest runs after the read snapshot's copy (their data changed nothing
-- readers see, so the file was kept): written beside the snapshot for the dashboard's freshness.
-- Grain: one row per run after $copied_run_id, oldest first.
SELECT run_id, origin, target, started_at, finished_at, records, loaded, duplicates, rejected,
       unknown_types, outcome, message
FROM ingest_runs
WHERE run_id > $copied_run_id
ORDER BY run_id
