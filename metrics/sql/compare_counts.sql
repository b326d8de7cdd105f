-- compare_counts: production deployments in each window of a before/after comparison, with how many
-- failed (rolled back or caused an incident) and how many were unplanned (rework).
-- Grain: one row per window that has deployments ('before', 'after'); a deployment belongs to the
-- window of its finish. Windows are [start_at, end_at) instants; $service NULL = every service.
SELECT window_name,
    count(*)                                           AS deployments,
    count(*) FILTER (WHERE f.deployment_key IS NOT NULL) AS failed_deployments,
    count(*) FILTER (WHERE d.unplanned)                AS unplanned_deployments
FROM (
    SELECT deployment_key, unplanned,
        CASE WHEN finished_at >= $before_start_at AND finished_at < $before_end_at THEN 'before'
             WHEN finished_at >= $after_start_at AND finished_at < $after_end_at THEN 'after' END AS window_name
    FROM fct_deployments
    WHERE environment = $environment AND ($service IS NULL OR service = $service)
) d
LEFT JOIN fct_failures f USING (deployment_key)
WHERE window_name IS NOT NULL
GROUP BY window_name
