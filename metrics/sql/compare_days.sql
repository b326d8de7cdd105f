-- compare_days: what happened on each local day (in the configured time zone) of the windows of a
-- before/after comparison (or of a story's baseline and phases), for the counts and rates. Grain:
-- one row per window and day with at least one production deployment; a deployment belongs to the
-- day of its finish. $segments: the windows as [start_at, end_at) instants (local midnights),
-- named, not overlapping, each cut where the zone's UTC offset changes and carrying that offset
-- (metrics.compare.offset_segments): a finish's local day is its instant plus the offset, cut to
-- the day, the day local_day gives without converting a million instants to the zone (0.10 s of
-- 0.11 s on the 1M-deployment warehouse). Every window is read in this one scan of the deployments
-- and one of the failures. $services: the services compared (a service, a team's services), NULL =
-- every service. metrics/compare.py groups the days into 7-day blocks from each window's first
-- day: the blocks are the independent units. The changes and lines the story's per-deployment
-- means need are story_batches_by_day.sql's, read only for them.
--   deployments            production deployments that finished that day
--   failed_deployments     those of them that failed (a row of fct_failures)
--   unplanned_deployments  those of them marked unplanned
WITH segments AS (
    SELECT unnest($segments::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                    offset_us BIGINT)[], recursive := true)
),
deployments AS (
    SELECT w.name                                                AS window_name,
        make_timestamp(epoch_us(d.finished_at) + w.offset_us)::DATE AS day,
        count(*)                                                 AS deployments,
        count(*) FILTER (WHERE d.unplanned)                      AS unplanned_deployments
    FROM fct_deployments d
    JOIN segments w ON d.finished_at >= w.start_at AND d.finished_at < w.end_at
    WHERE d.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], d.service))
    GROUP BY ALL
),
-- a failed deployment's row carries the deployment's service, environment and finish
-- (fct_failures.sql): counted from that table's few rows, not by joining it to every deployment
failed AS (
    SELECT w.name                                                AS window_name,
        make_timestamp(epoch_us(f.finished_at) + w.offset_us)::DATE AS day,
        count(*)                                                 AS failed_deployments
    FROM fct_failures f
    JOIN segments w ON f.finished_at >= w.start_at AND f.finished_at < w.end_at
    WHERE f.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], f.service))
    GROUP BY ALL
)
SELECT d.window_name, d.day,
    d.deployments,
    coalesce(f.failed_deployments, 0)                            AS failed_deployments,
    d.unplanned_deployments
FROM deployments d
LEFT JOIN failed f USING (window_name, day)
