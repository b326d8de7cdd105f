-- eventlog_repeated_in_chunk: the valid lines of the chunk (the view parsed_rows, registered by the
-- caller) whose (source, event_id) appears on an earlier line of the same chunk.
-- Grain: one row per repeat (line_no).
SELECT line_no FROM parsed_rows
WHERE reason IS NULL
QUALIFY row_number() OVER (PARTITION BY source, event_id ORDER BY line_no) > 1
