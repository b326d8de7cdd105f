-- export_summary: the quarterly-review CSV (contract §3), one row per period (and per service).
-- Grain: (period_start, service) for the chosen $grain and $environment. Every period of the
-- warehouse's coverage (fct_coverage: the day of the earliest stored event to the day of the latest,
-- or of the last successful API sync), clipped to $from_date..$to_date, appears — empty ones with 0
-- deployments and empty rates — but only for an environment with data: an empty warehouse, or an
-- environment without a deployment, change or incident, has no rows at all (never one per period of
-- the calendar). $services: the services to list (NULL = the organisation as 'all').
-- observed_days: the period's days inside the coverage; deploys_per_day divides by them, so the
-- first, partly covered period and the current one ('so far') are not diluted.
WITH bounds AS (
    SELECT
        greatest(period_start_of(first_day, $grain),
                 period_start_of(coalesce($from_date::DATE, first_day), $grain)) AS first_period,
        least(last_day, coalesce($to_date::DATE, last_day))                      AS last_period,
        first_day, last_day
    FROM fct_coverage
    WHERE EXISTS (SELECT 1 FROM metric_periods WHERE environment = $environment)
),
periods AS (
    SELECT period_start, observed_days(period_start, $grain, first_day, last_day) AS observed_days
    FROM (SELECT unnest(generate_series(first_period::TIMESTAMP, last_period::TIMESTAMP,
                      period_interval($grain)))::DATE AS period_start, first_day, last_day
          FROM bounds
          WHERE first_period <= last_period)
),
services AS (
    SELECT unnest(coalesce($services, ['all'])) AS service
)
SELECT
    p.period_start,
    s.service,
    coalesce(m.deployments, 0)                                   AS deployments,
    round(coalesce(m.deployments, 0) / p.observed_days, 6)       AS deploys_per_day,
    p.observed_days,
    round(m.lead_time_median_hours, 6)                           AS lead_time_median_hours,
    round(m.change_failure_rate, 6)                              AS change_failure_rate,
    coalesce(m.failed_deployments, 0)                            AS failed_deployments,
    round(m.incident_recovery_median_minutes, 6)                 AS incident_recovery_median_minutes,
    round(m.failed_deployment_recovery_median_minutes, 6)        AS failed_deployment_recovery_median_minutes,
    round(m.rework_rate, 6)                                      AS rework_rate,
    $environment                                                 AS environment,
    coalesce(m.changes_deployed, 0)                              AS changes_deployed,
    round(m.lead_time_p75_hours, 6)                              AS lead_time_p75_hours,
    round(m.lead_time_p90_hours, 6)                              AS lead_time_p90_hours,
    round(m.lead_time_mean_hours, 6)                             AS lead_time_mean_hours,
    coalesce(m.unplanned_deployments, 0)                         AS unplanned_deployments,
    coalesce(m.incidents, 0)                                     AS incidents,
    coalesce(m.incidents_resolved, 0)                            AS incidents_resolved,
    round(m.incident_recovery_p75_minutes, 6)                    AS incident_recovery_p75_minutes,
    round(m.incident_recovery_p90_minutes, 6)                    AS incident_recovery_p90_minutes,
    coalesce(m.failed_deployment_recoveries, 0)                  AS failed_deployment_recoveries,
    round(m.failed_deployment_recovery_p75_minutes, 6)           AS failed_deployment_recovery_p75_minutes,
    round(m.failed_deployment_recovery_p90_minutes, 6)           AS failed_deployment_recovery_p90_minutes,
    coalesce(m.failed_deployments_caught_in_rollout, 0)          AS failed_deployments_caught_in_rollout,
    round(m.caught_in_rollout_share, 6)                          AS caught_in_rollout_share,
    $grain                                                       AS grain,
    $timezone                                                    AS time_zone,
    $definitions_version                                         AS definitions_version
FROM periods p
CROSS JOIN services s
LEFT JOIN metric_periods m
  ON m.grain = $grain AND m.period_start = p.period_start AND m.service = s.service
 AND m.environment = $environment
ORDER BY p.period_start, s.service = 'all' DESC, s.service
