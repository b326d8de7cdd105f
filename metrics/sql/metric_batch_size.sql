-- metric_batch_size: change fail rate, failed deployment recovery time and lead time by batch size
-- and by deploy cadence, for production. Grain: (grain, period_start, service, environment,
-- dimension, bucket) with grain week (ISO, Monday) / month / quarter in $timezone — no day: cadence
-- is itself weekly and a day holds too few deployments per bucket to compare. dimension is
-- 'changes', 'lines' or 'cadence' (buckets in fct_deployment_batches), or 'all' (bucket 'all': the
-- period as a whole); service 'all' is every service together. Periods as metric_periods: the
-- deployment's finish. Every bucket of a dimension appears for every group with a deployment, empty
-- ones with 0 deployments, so a small bucket reads as small. Lead times: the changes whose first
-- production deployment is in the bucket. Medians of changes and lines per deployment: 'all' rows
-- only, over deployments with ≥ 1 linked change (lines: and known lines).
CREATE OR REPLACE TABLE metric_batch_size AS
WITH buckets AS (
    SELECT * FROM (VALUES
        ('all', 'all', 0),
        ('changes', 'none', 0), ('changes', '1', 1), ('changes', '2–5', 2), ('changes', '6–15', 3),
        ('changes', '16+', 4),
        ('lines', 'none', 0), ('lines', 'unknown', 1), ('lines', '<100', 2), ('lines', '100–400', 3),
        ('lines', '400–2000', 4), ('lines', '2000+', 5),
        ('cadence', '1', 1), ('cadence', '2–7', 2), ('cadence', '8–35', 3), ('cadence', '36+', 4)
    ) AS t(dimension, bucket, bucket_order)
),
deployments AS (
    SELECT local_day(finished_at, $timezone) AS day,
        -- a negative recovery is a data error: nulled once here rather than FILTERed per aggregate
        CASE WHEN recovery_minutes >= 0 THEN recovery_minutes END AS recovered_minutes, *
    FROM fct_deployment_batches
    WHERE environment = 'production'
),
periods AS (
    SELECT period_start_of(day, 'week') AS week, period_start_of(day, 'month') AS month,
        period_start_of(day, 'quarter') AS quarter, *
    FROM deployments
),
-- every grain, service level and dimension as a grouping set: one scan each, no copied rows
-- Quantiles: each group's values are collected with list(), which DuckDB spills to disk under its
-- memory cap, then quantile_cont runs over the one list (list_aggregate): the same interpolation.
-- quantile_cont as the group's aggregate keeps every group's values in memory at once, which DuckDB
-- cannot spill (2.5 GB at 1M deployments; docs/performance.md, "Memory").
deployment_stats AS (
    SELECT
        grouped_grain(1, grouping(week), grouping(month))                          AS grain,
        coalesce(week, month, quarter)                                             AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END                AS service,
        CASE WHEN grouping(change_bucket) = 0 THEN 'changes' WHEN grouping(lines_bucket) = 0 THEN 'lines'
             WHEN grouping(cadence_bucket) = 0 THEN 'cadence' ELSE 'all' END       AS dimension,
        coalesce(change_bucket, lines_bucket, cadence_bucket, 'all')               AS bucket,
        count(*)                                                                   AS deployments,
        count_if(failed)                                                           AS failed_deployments,
        count(recovered_minutes)                                                   AS failed_deployment_recoveries,
        list_aggregate(list(recovered_minutes) FILTER (WHERE recovered_minutes IS NOT NULL),
                       'quantile_cont', [0.5, 0.9])                                AS recovery_q
    FROM periods
    GROUP BY GROUPING SETS (
        (week, service), (week), (month, service), (month), (quarter, service), (quarter),
        (week, service, change_bucket), (week, change_bucket), (month, service, change_bucket),
        (month, change_bucket), (quarter, service, change_bucket), (quarter, change_bucket),
        (week, service, lines_bucket), (week, lines_bucket), (month, service, lines_bucket),
        (month, lines_bucket), (quarter, service, lines_bucket), (quarter, lines_bucket),
        (week, service, cadence_bucket), (week, cadence_bucket), (month, service, cadence_bucket),
        (month, cadence_bucket), (quarter, service, cadence_bucket), (quarter, cadence_bucket))
),
batch_medians AS (
    SELECT
        grouped_grain(1, grouping(week), grouping(month))                          AS grain,
        coalesce(week, month, quarter)                                             AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END                AS service,
        'all'                                                                      AS dimension,
        list_aggregate(list(changes) FILTER (WHERE changes > 0), 'quantile_cont', 0.5) AS changes_median,
        list_aggregate(list(lines_changed) FILTER (WHERE changes > 0 AND lines_changed IS NOT NULL),
                       'quantile_cont', 0.5)                                       AS lines_median
    FROM periods
    GROUP BY GROUPING SETS ((week, service), (week), (month, service), (month), (quarter, service), (quarter))
),
lead_times AS (
    SELECT local_day(l.delivered_at, $timezone) AS day, l.service,
        b.change_bucket, b.lines_bucket, b.cadence_bucket, l.lead_time_hours
    FROM fct_lead_times l
    JOIN fct_deployment_batches b USING (deployment_key)
    -- as in metric_periods: a negative span is a data error, not a fast change
    WHERE l.environment = 'production' AND l.lead_time_hours >= 0
),
lead_periods AS (
    SELECT period_start_of(day, 'week') AS week, period_start_of(day, 'month') AS month,
        period_start_of(day, 'quarter') AS quarter, *
    FROM lead_times
),
lead_time_stats AS (
    SELECT
        grouped_grain(1, grouping(week), grouping(month))                          AS grain,
        coalesce(week, month, quarter)                                             AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END                AS service,
        CASE WHEN grouping(change_bucket) = 0 THEN 'changes' WHEN grouping(lines_bucket) = 0 THEN 'lines'
             WHEN grouping(cadence_bucket) = 0 THEN 'cadence' ELSE 'all' END       AS dimension,
        coalesce(change_bucket, lines_bucket, cadence_bucket, 'all')               AS bucket,
        count(*)                                                                   AS changes_deployed,
        -- no NULLs: see lead_times
        list_aggregate(list(lead_time_hours), 'quantile_cont', [0.5, 0.9])         AS lead_q
    FROM lead_periods
    GROUP BY GROUPING SETS (
        (week, service), (week), (month, service), (month), (quarter, service), (quarter),
        (week, service, change_bucket), (week, change_bucket), (month, service, change_bucket),
        (month, change_bucket), (quarter, service, change_bucket), (quarter, change_bucket),
        (week, service, lines_bucket), (week, lines_bucket), (month, service, lines_bucket),
        (month, lines_bucket), (quarter, service, lines_bucket), (quarter, lines_bucket),
        (week, service, cadence_bucket), (week, cadence_bucket), (month, service, cadence_bucket),
        (month, cadence_bucket), (quarter, service, cadence_bucket), (quarter, cadence_bucket))
),
groups AS (
    SELECT grain, period_start, service, deployments FROM deployment_stats WHERE dimension = 'all'
)
SELECT
    g.grain, g.period_start, g.service,
    'production'                                               AS environment,
    k.dimension,                                               -- all / changes / lines / cadence
    k.bucket,                                                  -- the bucket's label
    k.bucket_order,                                            -- sort key within the dimension
    coalesce(d.deployments, 0)                                 AS deployments,
    coalesce(d.deployments, 0) / g.deployments                 AS share_of_deployments,
    coalesce(d.failed_deployments, 0)                          AS failed_deployments,
    d.failed_deployments / d.deployments                       AS change_failure_rate,
    coalesce(d.failed_deployment_recoveries, 0)                AS failed_deployment_recoveries,
    d.recovery_q[1]                                            AS failed_deployment_recovery_median_minutes,
    d.recovery_q[2]                                            AS failed_deployment_recovery_p90_minutes,
    coalesce(l.changes_deployed, 0)                            AS changes_deployed,
    l.lead_q[1]                                                AS lead_time_median_hours,
    l.lead_q[2]                                                AS lead_time_p90_hours,
    m.changes_median                                           AS changes_per_deployment_median,
    m.lines_median                                             AS lines_per_deployment_median
FROM groups g
CROSS JOIN buckets k
LEFT JOIN deployment_stats d
  ON d.grain = g.grain AND d.period_start = g.period_start AND d.service = g.service
 AND d.dimension = k.dimension AND d.bucket = k.bucket
LEFT JOIN lead_time_stats l
  ON l.grain = g.grain AND l.period_start = g.period_start AND l.service = g.service
 AND l.dimension = k.dimension AND l.bucket = k.bucket
LEFT JOIN batch_medians m
  ON m.grain = g.grain AND m.period_start = g.period_start AND m.service = g.service AND m.dimension = k.dimension;
