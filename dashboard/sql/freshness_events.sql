-- The newest raw event and how many are stored, for one ingest origin ($origin: eventlog, github).
-- Grain: one row. One origin at a time on purpose: an equality on a constant is answered from the
-- column's statistics where they settle it (a warehouse with one source), while grouping every raw
-- event by origin read all 4M of them at 1M deployments (0.15 s, 0.5 s from a just-opened snapshot).
SELECT max(occurred_at) AS newest_event_at, count(*) AS events
FROM raw_events
WHERE origin = $origin
