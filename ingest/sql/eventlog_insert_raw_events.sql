-- eventlog_insert_raw_events: the chunk's new events (the view new_events) into raw_events, each
-- line's text unchanged. Grain: one row per new (source, event_id). The result is the number stored.
-- Parameters: $origin ('eventlog'), $run_id.
INSERT INTO raw_events (origin, source, event_id, event_type, occurred_at, payload, ingest_run_id, file, line_no)
SELECT $origin, source, event_id, event_type, occurred_at, raw, $run_id, file, line_no FROM new_events
