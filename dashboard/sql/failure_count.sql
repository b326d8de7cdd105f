-- How many failed deployments a dashboard view has (the rows of failures.sql). Grain: one row.
SELECT count(*) AS failures
FROM fct_failures f
JOIN fct_deployments d USING (deployment_key)
WHERE f.environment = $environment
  AND ($services IS NULL OR list_contains($services, f.service))
  AND ($from_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE >= $from_date)
  AND ($to_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE <= $to_date)
