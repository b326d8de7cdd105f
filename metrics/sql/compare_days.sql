-- compare_days: what happened on each local day ($timezone) of the windows of a before/after
-- comparison (or of a story's baseline and phases), for the counts and rates. Grain: one row per
-- window and day with at least one production deployment; a deployment belongs to the day of its
-- finish. $windows: the windows as [start_at, end_at) instants (local midnights), named, not
-- overlapping; every window is read in this one scan of the deployments and one of the failures.
-- $services: the services compared (a service, a team's services), NULL = every service.
-- metrics/compare.py groups the days into 7-day blocks from each window's first day: the blocks are
-- the independent units. The changes and lines the story's per-deployment means need are
-- story_batch_days.sql's, read only for them.
--   deployments            production deployments that finished that day
--   failed_deployments     those of them that failed (a row of fct_failures)
--   caught_in_rollout      those failures caught in rollout (fct_failures.caught_in_rollout: recovered
--                          before the rollout reached 100%; definitions version 2)
--   unplanned_deployments  those of them marked unplanned
WITH windows AS (
    SELECT unnest($windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                   first_day DATE, last_day DATE)[], recursive := true)
),
deployments AS (
    SELECT w.name                                                AS window_name,
        local_day(d.finished_at, $timezone)                      AS day,
        count(*)                                                 AS deployments,
        count(*) FILTER (WHERE d.unplanned)                      AS unplanned_deployments
    FROM fct_deployments d
    JOIN windows w ON d.finished_at >= w.start_at AND d.finished_at < w.end_at
    WHERE d.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], d.service))
    GROUP BY ALL
),
-- a failed deployment's row carries the deployment's service, environment and finish
-- (fct_failures.sql): counted from that table's few rows, not by joining it to every deployment
failed AS (
    SELECT w.name                                                AS window_name,
        local_day(f.finished_at, $timezone)                      AS day,
        count(*)                                                 AS failed_deployments,
        count(*) FILTER (WHERE f.caught_in_rollout)              AS caught_in_rollout
    FROM fct_failures f
    JOIN windows w ON f.finished_at >= w.start_at AND f.finished_at < w.end_at
    WHERE f.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], f.service))
    GROUP BY ALL
)
SELECT d.window_name, d.day,
    d.deployments,
    coalesce(f.failed_deployments, 0)                            AS failed_deployments,
    coalesce(f.caught_in_rollout, 0)                             AS caught_in_rollout,
    d.unplanned_deployments
FROM deployments d
LEFT JOIN failed f USING (window_name, day)
