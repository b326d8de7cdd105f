-- eventlog_write_staging_version: record that the event log's stg_events rows are made with the
-- staging rules of $version, in the transaction that made them. Grain: one row per origin.
-- Parameters: $origin, $version, $staged_at.
INSERT OR REPLACE INTO staging_versions (origin, version, staged_at) VALUES ($origin, $version, $staged_at)
