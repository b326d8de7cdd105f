-- eventlog_reset_seen_state: eventlog_seen_state after a rebuild of eventlog_seen: this run, and the
-- raw events it covers. Grain: one row. Parameter: $run_id.
CREATE OR REPLACE TEMP TABLE eventlog_seen_state AS
SELECT CAST($run_id AS BIGINT) AS run_id, count(*) AS raw_events FROM raw_events
