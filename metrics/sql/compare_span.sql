-- compare_span: the first and last day (in $timezone) the warehouse has data for: every staged event
-- (deployments in any environment, changes, incidents, pipeline runs), or with $service set, that
-- service's events and the merges into its repositories. Before/after windows are clipped to it so
-- that days before the log starts are never counted as days without deployments. Grain: one row.
SELECT local_day(min(occurred_at), $timezone) AS first_day,
       local_day(max(occurred_at), $timezone) AS last_day
FROM (
    SELECT occurred_at FROM stg_events WHERE $service IS NULL OR service = $service
    UNION ALL
    SELECT merged_at FROM fct_changes
    WHERE $service IS NOT NULL
      AND repository IN (SELECT repository FROM fct_deployments WHERE service = $service)
)
