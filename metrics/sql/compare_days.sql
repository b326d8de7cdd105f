-- compare_days: what happened on each local day ($timezone) of the windows of a before/after
-- comparison (or of a story's baseline and phases), for the counts and rates. Grain: one row per
-- window and day with at least one production deployment; a deployment belongs to the day of its
-- finish. $windows: the windows as [start_at, end_at) instants (local midnights), named, not
-- overlapping; every window is read in this one scan. $services: the services compared (a service,
-- a team's services), NULL = every service. metrics/compare.py groups the days into 7-day blocks
-- from each window's first day: the blocks are the independent units. The changes and lines the
-- story's per-deployment means need are story_batch_days.sql's, read only for them.
WITH windows AS (
    SELECT unnest($windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                   first_day DATE, last_day DATE)[], recursive := true)
)
SELECT w.name                                                    AS window_name,
    local_day(d.finished_at, $timezone)                          AS day,
    count(*)                                                     AS deployments,      -- count
    count(*) FILTER (WHERE f.deployment_key IS NOT NULL)         AS failed_deployments,
    count(*) FILTER (WHERE d.unplanned)                          AS unplanned_deployments
FROM fct_deployments d
JOIN windows w ON d.finished_at >= w.start_at AND d.finished_at < w.end_at
LEFT JOIN fct_failures f USING (deployment_key)
WHERE d.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], d.service))
GROUP BY ALL
