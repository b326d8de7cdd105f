-- eventlog_stored_range: the row ids of the event log's stored raw events, first and last, to read
-- them again in windows when they are re-staged. Grain: one row (NULLs: none stored).
-- Parameter: $origin.
SELECT min(rowid), max(rowid) FROM raw_events WHERE origin = $origin
