-- export_summary: the quarterly-review CSV (contract §3), one row per period (and per service).
-- Grain: (period_start, service) for the chosen $grain and $environment. Every period from the first
-- to the last with data (clipped to $from_date..$to_date) appears, empty ones with 0 deployments and
-- empty rates. $services: the services to list (NULL = the organisation as 'all').
-- observed_days: the days of the period inside the span of the data (first to last day with any
-- deployment, change or incident), so a quarter the data only half covers is visibly partial.
WITH span AS (
    SELECT min(period_start) AS first_day, max(period_start) AS last_day
    FROM metric_periods
    WHERE grain = 'day' AND environment = $environment AND service = 'all'
),
bounds AS (
    SELECT
        greatest(min(period_start), period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)) AS first_period,
        least(max(period_start), coalesce($to_date::DATE, DATE '9999-12-31'))                              AS last_period
    FROM metric_periods
    WHERE grain = $grain AND environment = $environment
),
periods AS (
    SELECT unnest(generate_series(first_period::TIMESTAMP, last_period::TIMESTAMP,
        period_interval($grain)))::DATE AS period_start
    FROM bounds
    WHERE first_period <= last_period
),
services AS (
    SELECT unnest(coalesce($services, ['all'])) AS service
)
SELECT
    p.period_start,
    s.service,
    coalesce(m.deployments, 0)                                   AS deployments,
    round(coalesce(m.deployments, 0) / period_days(p.period_start, $grain), 6) AS deploys_per_day,
    round(m.lead_time_median_hours, 6)                           AS lead_time_median_hours,
    round(m.change_failure_rate, 6)                              AS change_failure_rate,
    coalesce(m.failed_deployments, 0)                            AS failed_deployments,
    round(m.incident_recovery_median_minutes, 6)                 AS incident_recovery_median_minutes,
    round(m.failed_deployment_recovery_median_minutes, 6)        AS failed_deployment_recovery_median_minutes,
    round(m.rework_rate, 6)                                      AS rework_rate,
    $environment                                                 AS environment,
    date_diff('day', greatest(p.period_start, span.first_day),
              least(p.period_start + period_interval($grain), span.last_day + INTERVAL 1 DAY)) AS observed_days,
    coalesce(m.changes_deployed, 0)                              AS changes_deployed,
    round(m.lead_time_p75_hours, 6)                              AS lead_time_p75_hours,
    round(m.lead_time_p90_hours, 6)                              AS lead_time_p90_hours,
    round(m.lead_time_mean_hours, 6)                             AS lead_time_mean_hours,
    coalesce(m.unplanned_deployments, 0)                         AS unplanned_deployments,
    coalesce(m.incidents, 0)                                     AS incidents,
    coalesce(m.incidents_resolved, 0)                            AS incidents_resolved,
    round(m.incident_recovery_p90_minutes, 6)                    AS incident_recovery_p90_minutes,
    coalesce(m.failed_deployment_recoveries, 0)                  AS failed_deployment_recoveries,
    round(m.failed_deployment_recovery_p90_minutes, 6)           AS failed_deployment_recovery_p90_minutes,
    $grain                                                       AS grain,
    $timezone                                                    AS time_zone,
    $definitions_version                                         AS definitions_version
FROM periods p
CROSS JOIN services s
CROSS JOIN span
LEFT JOIN metric_periods m
  ON m.grain = $grain AND m.period_start = p.period_start AND m.service = s.service
 AND m.environment = $environment
ORDER BY p.period_start, s.service = 'all' DESC, s.service
