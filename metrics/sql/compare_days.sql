-- compare_days: what happened on each local day (in the configured time zone) of the windows of a
-- before/after comparison (or of a story's baseline and phases), for the counts and rates. Grain:
-- one row per window and day with at least one production deployment; a deployment belongs to the
-- day of its finish. $segments: the windows as [start_at, end_at) instants (local midnights),
-- named, not overlapping, each cut where the zone's UTC offset changes and carrying that offset
-- (metrics.compare.offset_segments): a finish's local day is its instant plus the offset, cut to
-- the day, the day local_day gives without converting a million instants to the zone (0.10 s of
-- 0.11 s on the 1M-deployment warehouse). Every window is read in this one scan. $services: the
-- services compared (a service, a team's services), NULL = every service. metrics/compare.py groups
-- the days into 7-day blocks from each window's first day: the blocks are the independent units.
-- The changes and lines the story's per-deployment means need are story_batches_by_day.sql's, read
-- only for them.
WITH segments AS (
    SELECT unnest($segments::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                    offset_us BIGINT)[], recursive := true)
)
SELECT w.name                                                    AS window_name,
    make_timestamp(epoch_us(d.finished_at) + w.offset_us)::DATE  AS day,
    count(*)                                                     AS deployments,      -- count
    count(*) FILTER (WHERE f.deployment_key IS NOT NULL)         AS failed_deployments,
    count(*) FILTER (WHERE d.unplanned)                          AS unplanned_deployments
FROM fct_deployments d
JOIN segments w ON d.finished_at >= w.start_at AND d.finished_at < w.end_at
LEFT JOIN fct_failures f USING (deployment_key)
WHERE d.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], d.service))
GROUP BY ALL
