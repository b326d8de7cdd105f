-- eventlog_stored_candidates: the candidates (the view candidates, registered by the caller: the
-- result of eventlog_seen_candidates) whose (source, event_id) is really in raw_events.
-- Grain: one row per repeat of a stored event (line_no).
SELECT c.line_no FROM candidates c
WHERE EXISTS (SELECT 1 FROM raw_events r WHERE r.source = c.source AND r.event_id = c.event_id)
