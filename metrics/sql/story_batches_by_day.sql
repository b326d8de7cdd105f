-- story_batches_by_day: the changes and lines production deployments shipped on each local day (in
-- the configured time zone) of the windows of a comparison, for the story's per-deployment means
-- (changes and lines per deployment). Grain: one row per window and day with a deployment (the day
-- of its finish). fct_deployment_batches has one row per deployment with its finish, so this reads
-- that table alone; compare_days, which every comparison reads, need not join it. $segments and
-- $services as in compare_days (the day from the offset of the window's piece, as there; $services
-- NULL = every service).
--   changes                 changes shipped (fct_deployment_batches.changes)
--   lines_changed           lines of the deployments with at least one change and known lines only
--   deployments_with_lines  those deployments (as metric_batch_size)
WITH segments AS (
    SELECT unnest($segments::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                    offset_us BIGINT)[], recursive := true)
)
SELECT w.name                                                    AS window_name,
    make_timestamp(epoch_us(b.finished_at) + w.offset_us)::DATE  AS day,
    sum(coalesce(b.changes, 0))                                  AS changes,
    sum(b.lines_changed) FILTER (WHERE b.changes > 0 AND b.lines_changed IS NOT NULL) AS lines_changed,
    count(*) FILTER (WHERE b.changes > 0 AND b.lines_changed IS NOT NULL)             AS deployments_with_lines
FROM fct_deployment_batches b
JOIN segments w ON b.finished_at >= w.start_at AND b.finished_at < w.end_at
WHERE b.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], b.service))
GROUP BY ALL
