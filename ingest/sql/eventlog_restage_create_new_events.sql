-- eventlog_restage_create_new_events: the view new_events for re-staging, the stored events (the
-- view parsed_rows, registered by the caller) that the current rules still accept; every one is
-- stored once already, so none is a repeat. Grain: one row per (source, event_id).
CREATE OR REPLACE TEMP VIEW new_events AS
SELECT * FROM parsed_rows WHERE reason IS NULL
