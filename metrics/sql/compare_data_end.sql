-- compare_data_end: the instant the warehouse's data ends (its latest staged event): a recovery
-- still open then is censored at that instant in a before/after comparison. Grain: one row.
SELECT max(occurred_at) AS data_end_at FROM stg_events
