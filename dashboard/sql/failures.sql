-- The failed deployments of a dashboard view (finished in its days, its environment and services),
-- newest first, with why each counts as failed, how it recovered (from its finish, or from its first
-- exposure when recovered mid-rollout), the highest traffic share it reached before recovering and
-- whether it was caught before its rollout reached 100%.
-- Grain: one row per failed deployment; $limit rows at most (NULL: all of them).
SELECT f.deployment_id, f.service, f.finished_at,
       d.commit_sha AS commit,
       d.unplanned,
       f.reason, f.rolled_back_at, f.incident_ids, f.recovered_at, f.recovery_rule, f.recovery_minutes,
       f.exposed_at, f.recovery_from, f.blast_radius_percent, f.caught_in_rollout
FROM fct_failures f
JOIN fct_deployments d USING (deployment_key)
WHERE f.environment = $environment
  AND ($services IS NULL OR list_contains($services, f.service))
  -- the view's days are local days of the configured time zone, as the periods are
  AND ($from_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE >= $from_date)
  AND ($to_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE <= $to_date)
ORDER BY f.finished_at DESC, f.deployment_id
LIMIT $limit
