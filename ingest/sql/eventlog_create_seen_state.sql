-- eventlog_create_seen_state: the temp table saying which run built eventlog_seen and how many raw
-- events it then covered; when either differs, eventlog_seen is rebuilt. Grain: at most one row.
CREATE TEMP TABLE IF NOT EXISTS eventlog_seen_state (run_id BIGINT, raw_events BIGINT)
