-- eventlog_count_seen: eventlog_seen_state after a chunk added $added keys, so that it still matches
-- raw_events. Grain: the one row of run $run_id.
UPDATE eventlog_seen_state SET raw_events = raw_events + $added WHERE run_id = $run_id
