-- eventlog_rebuild_seen: eventlog_seen built again from every stored key. Grain: one row per row of
-- raw_events. Followed by eventlog_reset_seen_state.
CREATE OR REPLACE TEMP TABLE eventlog_seen AS SELECT hash(source, event_id) AS h FROM raw_events
