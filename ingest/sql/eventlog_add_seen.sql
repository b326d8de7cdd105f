-- eventlog_add_seen: the keys the chunk just stored (the view new_events) into eventlog_seen, for
-- the next chunks. Grain: one row per new event. Followed by eventlog_count_seen.
INSERT INTO eventlog_seen SELECT hash(source, event_id) FROM new_events
