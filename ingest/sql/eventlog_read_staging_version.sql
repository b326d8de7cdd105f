-- eventlog_read_staging_version: the version of the staging rules the event log's stg_events rows
-- were made with (none: a warehouse from before versions were kept, i.e. version 1).
-- Grain: at most one row. Parameter: $origin ('eventlog').
SELECT version FROM staging_versions WHERE origin = $origin
