-- eventlog_restage_delete_raw: the stored events that the current rules reject (the view
-- parsed_rows, registered by the caller), out of raw_events: their text is in rejects now, as a
-- fresh load would have it. Grain: none. Parameter: $origin.
DELETE FROM raw_events
WHERE origin = $origin
  AND (source, event_id) IN (SELECT source, event_id FROM parsed_rows WHERE reason IS NOT NULL)
