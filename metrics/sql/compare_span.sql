-- compare_span: the first and last day (in $timezone) the warehouse has data for: every staged event
-- (deployments in any environment, changes, incidents, pipeline runs; events naming no service too).
-- Before/after windows are clipped to it so that days before the log starts are never counted as
-- days without deployments. A scope of services' span comes from compare_service_spans instead
-- (metrics.compare.data_span). Grain: one row.
SELECT local_day(min(occurred_at), $timezone) AS first_day,  -- DATE
       local_day(max(occurred_at), $timezone) AS last_day    -- DATE
FROM stg_events
