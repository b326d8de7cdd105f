-- The Incidents page's impossible recovery times: incidents of a dashboard view resolved before they
-- started, and failed deployments recovered before they were first exposed (negative recovery
-- minutes; dq_findings reports both). Never plotted: listed beside the charts, newest first.
-- Grain: one row per incident or failed deployment.
SELECT 'incident' AS kind, i.incident_id AS id, i.service, i.started_at AS happened_at, i.recovery_minutes
FROM fct_incidents i
WHERE i.environment = $environment AND i.recovery_minutes < 0
  AND ($services IS NULL OR list_contains($services, i.service))
  AND ($from_date IS NULL OR local_day(i.started_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(i.started_at, $timezone) <= $to_date)
UNION ALL
SELECT 'failed deployment', f.deployment_id, f.service, f.finished_at, f.recovery_minutes
FROM fct_failures f
WHERE f.environment = $environment AND f.recovery_minutes < 0
  AND ($services IS NULL OR list_contains($services, f.service))
  AND ($from_date IS NULL OR local_day(f.finished_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(f.finished_at, $timezone) <= $to_date)
ORDER BY happened_at DESC, id
