-- metric_batch_size: change fail rate, failed deployment recovery time and lead time by batch size
-- and by deploy cadence. Grain: (grain, period_start, service, environment, dimension, bucket);
-- dimension is 'changes', 'lines' or 'cadence' (buckets in fct_deployment_batches), or 'all' (bucket
-- 'all': the period as a whole). Periods as metric_periods: the deployment's finish in $timezone.
-- Every bucket of a dimension appears for every group with a deployment, empty ones with 0
-- deployments, so a small bucket reads as small. Lead times: the changes whose first deployment in
-- the environment is in the bucket. Medians of changes and lines: deployments with ≥ 1 linked change
-- (lines: and known lines).
CREATE OR REPLACE TABLE metric_batch_size AS
WITH grains AS (
    SELECT unnest(['day', 'week', 'month', 'quarter']) AS grain
),
buckets AS (
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
    SELECT g.grain,
        date_trunc(g.grain, b.finished_at AT TIME ZONE $timezone)::DATE AS period_start,
        unnest([b.service, 'all'])                                       AS service,
        b.environment, b.change_bucket, b.lines_bucket, b.cadence_bucket, b.changes, b.lines_changed,
        b.failed, b.recovery_minutes
    FROM fct_deployment_batches b
    CROSS JOIN grains g
),
deployment_stats AS (
    SELECT grain, period_start, service, environment,
        CASE WHEN grouping(change_bucket) = 0 THEN 'changes' WHEN grouping(lines_bucket) = 0 THEN 'lines'
             WHEN grouping(cadence_bucket) = 0 THEN 'cadence' ELSE 'all' END  AS dimension,
        coalesce(change_bucket, lines_bucket, cadence_bucket, 'all')          AS bucket,
        count(*)                                                              AS deployments,
        count(*) FILTER (WHERE failed)                                        AS failed_deployments,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0)          AS failed_deployment_recoveries,
        quantile_cont(recovery_minutes, [0.5, 0.9]) FILTER (WHERE recovery_minutes >= 0) AS recovery_q,
        quantile_cont(changes, 0.5) FILTER (WHERE changes > 0)                AS changes_median,
        quantile_cont(lines_changed, 0.5) FILTER (WHERE changes > 0 AND lines_changed IS NOT NULL) AS lines_median
    FROM deployments
    GROUP BY GROUPING SETS (
        (grain, period_start, service, environment),
        (grain, period_start, service, environment, change_bucket),
        (grain, period_start, service, environment, lines_bucket),
        (grain, period_start, service, environment, cadence_bucket))
),
lead_times AS (
    SELECT g.grain,
        date_trunc(g.grain, l.delivered_at AT TIME ZONE $timezone)::DATE AS period_start,
        unnest([l.service, 'all'])                                        AS service,
        l.environment, b.change_bucket, b.lines_bucket, b.cadence_bucket, l.lead_time_hours
    FROM fct_lead_times l
    JOIN fct_deployment_batches b USING (deployment_key)
    CROSS JOIN grains g
    WHERE l.lead_time_hours >= 0  -- as in metric_periods: a negative span is a data error
),
lead_time_stats AS (
    SELECT grain, period_start, service, environment,
        CASE WHEN grouping(change_bucket) = 0 THEN 'changes' WHEN grouping(lines_bucket) = 0 THEN 'lines'
             WHEN grouping(cadence_bucket) = 0 THEN 'cadence' ELSE 'all' END  AS dimension,
        coalesce(change_bucket, lines_bucket, cadence_bucket, 'all')          AS bucket,
        count(*)                                                              AS changes_deployed,
        quantile_cont(lead_time_hours, [0.5, 0.9])                            AS lead_q
    FROM lead_times
    GROUP BY GROUPING SETS (
        (grain, period_start, service, environment),
        (grain, period_start, service, environment, change_bucket),
        (grain, period_start, service, environment, lines_bucket),
        (grain, period_start, service, environment, cadence_bucket))
),
groups AS (
    SELECT DISTINCT grain, period_start, service, environment FROM deployment_stats
)
SELECT
    g.grain, g.period_start, g.service, g.environment,
    k.dimension,                                               -- all / changes / lines / cadence
    k.bucket,                                                  -- the bucket's label
    k.bucket_order,                                            -- sort key within the dimension
    coalesce(d.deployments, 0)                                 AS deployments,
    coalesce(d.deployments, 0) / a.deployments                 AS share_of_deployments,
    coalesce(d.failed_deployments, 0)                          AS failed_deployments,
    d.failed_deployments / d.deployments                       AS change_failure_rate,
    coalesce(d.failed_deployment_recoveries, 0)                AS failed_deployment_recoveries,
    d.recovery_q[1]                                            AS failed_deployment_recovery_median_minutes,
    d.recovery_q[2]                                            AS failed_deployment_recovery_p90_minutes,
    coalesce(l.changes_deployed, 0)                            AS changes_deployed,
    l.lead_q[1]                                                AS lead_time_median_hours,
    l.lead_q[2]                                                AS lead_time_p90_hours,
    d.changes_median                                           AS changes_per_deployment_median,
    d.lines_median                                             AS lines_per_deployment_median
FROM groups g
CROSS JOIN buckets k
JOIN deployment_stats a
  ON a.grain = g.grain AND a.period_start = g.period_start AND a.service = g.service
 AND a.environment = g.environment AND a.dimension = 'all'
LEFT JOIN deployment_stats d
  ON d.grain = g.grain AND d.period_start = g.period_start AND d.service = g.service
 AND d.environment = g.environment AND d.dimension = k.dimension AND d.bucket = k.bucket
LEFT JOIN lead_time_stats l
  ON l.grain = g.grain AND l.period_start = g.period_start AND l.service = g.service
 AND l.environment = g.environment AND l.dimension = k.dimension AND l.bucket = k.bucket;
