-- github_insert_raw: a page's accepted payloads (the registered table gh_batch: source, event_id,
-- event_type, occurred_at, payload) into raw_events, unchanged. Grain: one row per (source, event_id);
-- github_delete_raw removed any earlier version of these keys first.
INSERT INTO raw_events (origin, source, event_id, event_type, occurred_at, payload, ingest_run_id, file, line_no)
SELECT $origin, source, event_id, event_type, occurred_at, payload, $run_id, NULL, NULL FROM gh_batch
