-- export_batch_size: `dora export --table batch-size`, one row per period (and service), dimension
-- and bucket: deployments, change fail rate, failed-deployment recovery and lead time by batch size
-- (changes, lines) and cadence. Grain: (period_start, service, dimension, bucket) for $grain and
-- $environment; only periods with a deployment (each with every bucket, empty ones at 0).
SELECT
    period_start,
    service,
    dimension,
    bucket,
    deployments,
    round(share_of_deployments, 6)                       AS share_of_deployments,
    failed_deployments,
    round(change_failure_rate, 6)                        AS change_failure_rate,
    failed_deployment_recoveries,
    round(failed_deployment_recovery_median_minutes, 6)  AS failed_deployment_recovery_median_minutes,
    round(failed_deployment_recovery_p90_minutes, 6)     AS failed_deployment_recovery_p90_minutes,
    changes_deployed,
    round(lead_time_median_hours, 6)                     AS lead_time_median_hours,
    round(lead_time_p90_hours, 6)                        AS lead_time_p90_hours,
    round(changes_per_deployment_median, 6)              AS changes_per_deployment_median,
    round(lines_per_deployment_median, 6)                AS lines_per_deployment_median,
    environment,
    $grain                                               AS grain,
    $timezone                                            AS time_zone,
    $definitions_version                                 AS definitions_version
FROM metric_batch_size
WHERE grain = $grain AND environment = $environment
  AND service IN (SELECT unnest(coalesce($services, ['all'])))
  AND period_start >= period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)
  AND period_start <= coalesce($to_date::DATE, DATE '9999-12-31')
ORDER BY period_start, service = 'all' DESC, service,
         list_position(['all', 'changes', 'lines', 'cadence'], dimension), bucket_order;
