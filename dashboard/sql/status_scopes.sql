-- The environments and services the metrics cover, with the first and last day of each.
-- Grain: one row per environment × service (including the organisation, service 'all'); production first.
SELECT environment,
       service,
       min(period_start) AS first_day,
       max(period_start) AS last_day
FROM metric_periods
WHERE grain = 'day'
GROUP BY environment, service
ORDER BY environment <> 'production', environment, service
