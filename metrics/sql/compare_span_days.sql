-- compare_span_days: a scope's first and last day with data in $timezone, from its first and last
-- instant (compare_service_spans), by compare_span.sql's rule for the organisation: local_day of the
-- earliest and of the latest.
-- Grain: one row.
SELECT local_day($first_at::TIMESTAMPTZ, $timezone) AS first_day,  -- DATE
       local_day($last_at::TIMESTAMPTZ, $timezone)  AS last_day    -- DATE
