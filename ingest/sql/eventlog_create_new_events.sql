-- eventlog_create_new_events: the view new_events, the chunk's lines that add an event: valid and
-- not a repeat of an event already stored or earlier in the chunk (the first copy wins).
-- Grain: one row per new (source, event_id). Reads the views parsed_rows (the parsed chunk) and
-- repeated_lines (line_no of the repeats), both registered by the caller; later statements of the
-- same chunk read new_events while they are.
CREATE OR REPLACE TEMP VIEW new_events AS
SELECT * FROM parsed_rows
WHERE reason IS NULL AND line_no NOT IN (SELECT line_no FROM repeated_lines)
