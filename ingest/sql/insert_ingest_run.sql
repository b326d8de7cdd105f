-- insert_ingest_run: the record of one ingest run (any source), written when it finishes: inside the
-- run's transaction on success, after the rollback on failure. Grain: one row per run.
-- Parameters: $run_id, $origin, $target (what was read), $started_at, $finished_at; the counts
-- $records, $loaded, $duplicates, $rejected, $unknown_types; $outcome ('ok', 'rejects', 'failed')
-- and $message (why it failed, else NULL).
INSERT INTO ingest_runs (run_id, origin, target, started_at, finished_at, records, loaded,
                         duplicates, rejected, unknown_types, outcome, message)
VALUES ($run_id, $origin, $target, $started_at, $finished_at, $records, $loaded,
        $duplicates, $rejected, $unknown_types, $outcome, $message)
