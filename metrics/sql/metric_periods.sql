-- metric_periods: the DORA metrics for every period, service and environment.
-- Grain: (grain, period_start, service, environment); grain in day / week (ISO, Monday) / month /
-- quarter, periods in the $timezone time zone; service 'all' is every service together.
-- Deployments, lead times, failures and failed-deployment recovery belong to the period of the
-- deployment's finish; incident recovery to the period the incident started. Only periods with at
-- least one of those rows appear: exports fill empty periods in (export_summary.sql).
-- days: the period's calendar days; observed_days: those inside the warehouse's coverage
-- (fct_coverage), fewer for the first, partly covered period and the current one ('so far').
-- deploys_per_day divides by observed_days (definitions version 2; version 1 divided by days).
-- A row always has an event inside the coverage, so observed_days is at least 1.
CREATE OR REPLACE TABLE metric_periods AS
WITH
-- Every grain and service level is a grouping set of one pass over the facts: copying each row per
-- grain and per service level first (4 × 2 copies: 36M lead times at 1M deployments) cost a sixth
-- more CPU (6.5 against 5.5 s at scale 1). Each
-- row's local day is worked out once (the time zone conversion is the costly part); every grain's
-- period is a truncation of that day. The service 'all' is reserved (the loader rejects it), so an
-- organisation row never meets a service's.
-- Quantiles: each group's values are collected with list(), which DuckDB spills to disk under its
-- memory cap, then quantile_cont runs over the one list (list_aggregate): the same interpolation.
-- quantile_cont as the group's aggregate keeps every group's values in memory at once, which DuckDB
-- cannot spill (2.5 GB at 1M deployments; docs/performance.md, "Memory").
deployments AS (
    SELECT period_start_of(d.day, 'week') AS week, period_start_of(d.day, 'month') AS month,
        period_start_of(d.day, 'quarter') AS quarter, d.*
    FROM (SELECT local_day(d.finished_at, $timezone) AS day, d.service, d.environment, d.unplanned,
                 f.deployment_key IS NOT NULL AS failed, f.caught_in_rollout, f.recovery_minutes
          FROM fct_deployments d
          LEFT JOIN fct_failures f USING (deployment_key)) d
),
deployment_stats AS (
    SELECT
        grouped_grain(grouping(day), grouping(week), grouping(month))        AS grain,
        coalesce(day, week, month, quarter)                                  AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END          AS service,
        environment,
        count(*)                                               AS deployments,
        count(*) FILTER (WHERE failed)                         AS failed_deployments,
        count(*) FILTER (WHERE unplanned)                      AS unplanned_deployments,
        -- recovered after exposure and before the rollout reached 100% of traffic (fct_failures)
        count(*) FILTER (WHERE caught_in_rollout)              AS failed_deployments_caught_in_rollout,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0) AS failed_deployment_recoveries,
        -- one pass over each group's values for the three quantiles; a negative span is a data error
        list_aggregate(list(recovery_minutes) FILTER (WHERE recovery_minutes >= 0),
                       'quantile_cont', [0.5, 0.75, 0.9])      AS failed_deployment_recovery_quantiles,
        failed_deployment_recovery_quantiles[1]                AS failed_deployment_recovery_median_minutes,
        failed_deployment_recovery_quantiles[2]                AS failed_deployment_recovery_p75_minutes,
        failed_deployment_recovery_quantiles[3]                AS failed_deployment_recovery_p90_minutes,
        avg(recovery_minutes) FILTER (WHERE recovery_minutes >= 0) AS failed_deployment_recovery_mean_minutes
    FROM deployments
    GROUP BY GROUPING SETS (
        (day, service, environment), (day, environment), (week, service, environment), (week, environment),
        (month, service, environment), (month, environment), (quarter, service, environment),
        (quarter, environment))
),
lead_times AS (
    SELECT period_start_of(l.day, 'week') AS week, period_start_of(l.day, 'month') AS month,
        period_start_of(l.day, 'quarter') AS quarter, l.*
    FROM (SELECT local_day(delivered_at, $timezone) AS day, service, environment, lead_time_hours
          FROM fct_lead_times
          -- a negative span is a data error (reported by dq_findings), not a fast change
          WHERE lead_time_hours >= 0) l
),
lead_time_stats AS (
    SELECT
        grouped_grain(grouping(day), grouping(week), grouping(month))        AS grain,
        coalesce(day, week, month, quarter)                                  AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END          AS service,
        environment,
        count(*)                                   AS changes_deployed,
        -- one pass over each group's values for all three quantiles (no NULLs: see lead_times)
        list_aggregate(list(lead_time_hours), 'quantile_cont', [0.5, 0.75, 0.9]) AS lead_time_quantiles,
        lead_time_quantiles[1]                     AS lead_time_median_hours,
        lead_time_quantiles[2]                     AS lead_time_p75_hours,
        lead_time_quantiles[3]                     AS lead_time_p90_hours,
        avg(lead_time_hours)                       AS lead_time_mean_hours
    FROM lead_times
    GROUP BY GROUPING SETS (
        (day, service, environment), (day, environment), (week, service, environment), (week, environment),
        (month, service, environment), (month, environment), (quarter, service, environment),
        (quarter, environment))
),
incidents AS (
    SELECT period_start_of(i.day, 'week') AS week, period_start_of(i.day, 'month') AS month,
        period_start_of(i.day, 'quarter') AS quarter, i.*
    FROM (SELECT local_day(started_at, $timezone) AS day, service, environment, recovery_minutes
          FROM fct_incidents
          WHERE started_at IS NOT NULL AND environment IS NOT NULL) i
),
incident_stats AS (
    SELECT
        grouped_grain(grouping(day), grouping(week), grouping(month))        AS grain,
        coalesce(day, week, month, quarter)                                  AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END          AS service,
        environment,
        count(*)                                                          AS incidents,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0)      AS incidents_resolved,
        list_aggregate(list(recovery_minutes) FILTER (WHERE recovery_minutes >= 0),
                       'quantile_cont', [0.5, 0.75, 0.9])                 AS incident_recovery_quantiles,
        incident_recovery_quantiles[1]                                    AS incident_recovery_median_minutes,
        incident_recovery_quantiles[2]                                    AS incident_recovery_p75_minutes,
        incident_recovery_quantiles[3]                                    AS incident_recovery_p90_minutes,
        avg(recovery_minutes) FILTER (WHERE recovery_minutes >= 0)        AS incident_recovery_mean_minutes
    FROM incidents
    GROUP BY GROUPING SETS (
        (day, service, environment), (day, environment), (week, service, environment), (week, environment),
        (month, service, environment), (month, environment), (quarter, service, environment),
        (quarter, environment))
    -- an incident naming no service counts only in 'all'
    HAVING grouping(service) = 1 OR service IS NOT NULL
),
keys AS (
    SELECT grain, period_start, service, environment FROM deployment_stats
    UNION SELECT grain, period_start, service, environment FROM lead_time_stats
    UNION SELECT grain, period_start, service, environment FROM incident_stats
)
SELECT
    k.grain, k.period_start, k.service, k.environment,
    period_days(k.period_start, k.grain)                                   AS days,
    observed_days(k.period_start, k.grain, c.first_day, c.last_day)        AS observed_days,
    coalesce(d.deployments, 0)                                             AS deployments,
    coalesce(d.deployments, 0) / observed_days                             AS deploys_per_day,
    d.failed_deployments / d.deployments                                   AS change_failure_rate,
    d.unplanned_deployments / d.deployments                                AS rework_rate,
    coalesce(d.failed_deployments, 0)                                      AS failed_deployments,
    coalesce(d.unplanned_deployments, 0)                                   AS unplanned_deployments,
    coalesce(l.changes_deployed, 0)                                        AS changes_deployed,
    l.lead_time_median_hours, l.lead_time_p75_hours, l.lead_time_p90_hours, l.lead_time_mean_hours,
    coalesce(i.incidents, 0)                                               AS incidents,
    coalesce(i.incidents_resolved, 0)                                      AS incidents_resolved,
    i.incident_recovery_median_minutes, i.incident_recovery_p90_minutes, i.incident_recovery_mean_minutes,
    i.incident_recovery_p75_minutes,
    coalesce(d.failed_deployment_recoveries, 0)                            AS failed_deployment_recoveries,
    d.failed_deployment_recovery_median_minutes, d.failed_deployment_recovery_p90_minutes,
    d.failed_deployment_recovery_mean_minutes,
    d.failed_deployment_recovery_p75_minutes,
    coalesce(d.failed_deployments_caught_in_rollout, 0)                   AS failed_deployments_caught_in_rollout,
    -- the share of failed deployments caught in rollout; undefined (NULL) without failed deployments
    d.failed_deployments_caught_in_rollout / nullif(d.failed_deployments, 0) AS caught_in_rollout_share
FROM keys k
CROSS JOIN fct_coverage c
LEFT JOIN deployment_stats d USING (grain, period_start, service, environment)
LEFT JOIN lead_time_stats l USING (grain, period_start, service, environment)
LEFT JOIN incident_stats i USING (grain, period_start, service, environment);
