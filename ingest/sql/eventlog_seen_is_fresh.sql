-- eventlog_seen_is_fresh: 1 when eventlog_seen was built by this run and covers every raw event
-- (nothing changed raw_events behind its back), else 0. Grain: one row. Parameter: $run_id.
SELECT count(*) FROM eventlog_seen_state
WHERE run_id = $run_id AND raw_events = (SELECT count(*) FROM raw_events)
