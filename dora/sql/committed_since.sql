-- committed_since: whether anything after run $run_id was committed: a finished run, or raw events a
-- run stored at a checkpoint before it finished (GitHub commits every few pages). Grain: one row.
SELECT EXISTS (SELECT 1 FROM ingest_runs WHERE run_id > $run_id AND outcome <> 'failed')
    OR EXISTS (SELECT 1 FROM raw_events WHERE ingest_run_id > $run_id) AS committed
