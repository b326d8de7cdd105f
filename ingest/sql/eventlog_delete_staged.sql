-- eventlog_delete_staged: drop the event log's staged rows before they are staged again from
-- raw_events by the current rules. Other origins' rows are theirs to re-stage. Grain: none.
-- Parameter: $origin.
DELETE FROM stg_events WHERE origin = $origin
