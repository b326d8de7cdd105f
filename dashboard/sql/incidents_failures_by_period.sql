-- The Incidents page's failed deployments over time: how many failed deployments of a dashboard view
-- finished in each $grain period (local days of $timezone, as metric_periods count them), per the
-- severity of their most severe attributed incident — the first in sort order (sev1 before sev2), the
-- usual naming — or 'no incident (rolled back)' when only a rollback made them fail.
-- Grain: one row per (period_start, severity) with a failed deployment.
WITH severities AS (
    SELECT deployment_key, min(severity) AS severity  -- NULL when no incident states one
    FROM fct_incidents
    WHERE deployment_key IS NOT NULL
    GROUP BY deployment_key
)
SELECT period_start_of(local_day(f.finished_at, $timezone), $grain) AS period_start,
       CASE WHEN coalesce(f.incident_count, 0) = 0 THEN 'no incident (rolled back)' ELSE s.severity END
                                                                    AS severity,
       count(*)                                                     AS failed_deployments
FROM fct_failures f
LEFT JOIN severities s USING (deployment_key)
WHERE f.environment = $environment
  AND ($services IS NULL OR list_contains($services, f.service))
  AND ($from_date IS NULL OR local_day(f.finished_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(f.finished_at, $timezone) <= $to_date)
GROUP BY ALL
ORDER BY period_start, severity
