-- eventlog_seen_candidates: the valid lines of the chunk (the view parsed_rows, registered by the
-- caller) whose key hash is in eventlog_seen: maybe stored already (a hash may collide), to be
-- checked against raw_events by eventlog_stored_candidates. Grain: one row per such line.
SELECT line_no, source, event_id FROM parsed_rows
WHERE reason IS NULL AND hash(source, event_id) IN (SELECT h FROM eventlog_seen)
