-- compare_days: what happened on each local day ($timezone) of the two windows of a before/after
-- comparison, for the counts and rates. Grain: one row per window ('before', 'after') and day with at
-- least one production deployment; a deployment belongs to the day of its finish. Windows are
-- [start_at, end_at) instants (local midnights); $service NULL = every service. metrics/compare.py
-- groups the days into 7-day blocks from each window's first day: the blocks are the independent units.
SELECT window_name,
    local_day(finished_at, $timezone)                            AS day,
    count(*)                                                     AS deployments,      -- count
    count(*) FILTER (WHERE failed)                               AS failed_deployments,
    count(*) FILTER (WHERE unplanned)                            AS unplanned_deployments,
    sum(changes)                                                 AS changes,          -- changes shipped
    -- lines per deployment: deployments with at least one change and known lines only (as metric_batch_size)
    sum(lines_changed) FILTER (WHERE changes > 0 AND lines_changed IS NOT NULL) AS lines_changed,
    count(*) FILTER (WHERE changes > 0 AND lines_changed IS NOT NULL)           AS deployments_with_lines
FROM (
    SELECT d.finished_at, d.unplanned, f.deployment_key IS NOT NULL AS failed,
        coalesce(b.changes, 0) AS changes, b.lines_changed,
        CASE WHEN d.finished_at >= $before_start_at AND d.finished_at < $before_end_at THEN 'before'
             WHEN d.finished_at >= $after_start_at AND d.finished_at < $after_end_at THEN 'after' END AS window_name
    FROM fct_deployments d
    LEFT JOIN fct_failures f USING (deployment_key)
    LEFT JOIN fct_deployment_batches b USING (deployment_key)
    WHERE d.environment = $environment AND ($service IS NULL OR d.service = $service)
)
WHERE window_name IS NOT NULL
GROUP BY ALL
