-- eventlog_create_seen: the temp table eventlog_seen, a hash of every stored (source, event_id), so
-- that each chunk probes raw_events only for the lines whose hash is there (ingest/eventlog.py,
-- find_repeated_lines). Grain: one row per stored key. Lives as long as the connection.
CREATE TEMP TABLE IF NOT EXISTS eventlog_seen (h UBIGINT)
