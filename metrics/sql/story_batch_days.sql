-- story_batch_days: the changes and lines production deployments shipped on each local day
-- ($timezone) of the windows of a comparison, for the story's per-deployment means (changes and
-- lines per deployment). Grain: one row per window and day with a deployment (the day of its
-- finish). fct_deployment_batches has one row per deployment with its finish, so this reads that
-- table alone; compare_days, which every comparison reads, need not join it. $windows and $services
-- as in compare_days ($services NULL = every service).
--   changes                 changes shipped (fct_deployment_batches.changes)
--   lines_changed           lines of the deployments with at least one change and known lines only
--   deployments_with_lines  those deployments (as metric_batch_size)
WITH windows AS (
    SELECT unnest($windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                   first_day DATE, last_day DATE)[], recursive := true)
)
SELECT w.name                                                    AS window_name,
    local_day(b.finished_at, $timezone)                          AS day,
    sum(coalesce(b.changes, 0))                                  AS changes,
    sum(b.lines_changed) FILTER (WHERE b.changes > 0 AND b.lines_changed IS NOT NULL) AS lines_changed,
    count(*) FILTER (WHERE b.changes > 0 AND b.lines_changed IS NOT NULL)             AS deployments_with_lines
FROM fct_deployment_batches b
JOIN windows w ON b.finished_at >= w.start_at AND b.finished_at < w.end_at
WHERE b.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], b.service))
GROUP BY ALL
