-- eventlog_stored_lines: one window of the event log's stored raw events as the lines they were
-- read from (file, line_no, raw, decode_error: the shape stg_eventlog__lines.sql reads), to stage
-- them again. Grain: one row per raw event with $first <= rowid < $stop. Parameters: $origin,
-- $first, $stop.
SELECT file, line_no, payload AS raw, false AS decode_error
FROM raw_events
WHERE origin = $origin AND rowid >= $first AND rowid < $stop
