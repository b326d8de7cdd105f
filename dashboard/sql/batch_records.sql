-- The deployments of one batch-size bucket in one period (fct_deployment_batches), failed first: the
-- records behind a point of the batch-size page. $dimension picks the bucketing (changes, lines or
-- cadence); a deployment belongs to the $grain period of its finish, in the configured time zone.
-- Grain: one row per deployment.
SELECT d.deployment_id, b.service, b.finished_at, b.changes, b.lines_changed, b.deploys_that_week,
       b.failed, b.recovery_minutes
FROM fct_deployment_batches b
JOIN fct_deployments d USING (deployment_key)
WHERE b.environment = $environment
  AND ($service = 'all' OR b.service = $service)
  AND CASE $dimension
          WHEN 'changes' THEN b.change_bucket
          WHEN 'lines' THEN b.lines_bucket
          WHEN 'cadence' THEN b.cadence_bucket
      END = $bucket
  AND period_start_of(local_day(b.finished_at, $timezone), $grain) = $period_start
ORDER BY b.failed DESC, b.finished_at, d.deployment_id
