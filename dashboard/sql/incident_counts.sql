-- How many incidents of a dashboard view there are (the rows of incidents.sql): all, resolved, and
-- attributed to a deployment. Grain: one row.
SELECT count(*)                  AS incidents,
       count(i.recovery_minutes) AS resolved,
       count(d.deployment_id)    AS attributed
FROM fct_incidents i
LEFT JOIN fct_deployments d USING (deployment_key)
WHERE i.environment = $environment AND i.started_at IS NOT NULL
  AND ($services IS NULL OR list_contains($services, i.service))
  AND ($from_date IS NULL OR (i.started_at AT TIME ZONE $timezone)::DATE >= $from_date)
  AND ($to_date IS NULL OR (i.started_at AT TIME ZONE $timezone)::DATE <= $to_date)
