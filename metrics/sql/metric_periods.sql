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
WITH grains AS (
    SELECT unnest($grains::VARCHAR[]) AS grain  -- metrics.build.GRAINS
),
-- Speed: each row's local day is worked out once (the time zone conversion is the costly part);
-- every grain's period is a truncation of that day.
deployments AS (
    SELECT g.grain,
        period_start_of(d.finished_on, g.grain)                          AS period_start,
        unnest([d.service, 'all'])                                       AS service,
        d.environment, d.unplanned,
        f.deployment_key IS NOT NULL                                     AS failed,
        f.caught_in_rollout,
        f.recovery_minutes
    FROM (SELECT *, local_day(finished_at, $timezone) AS finished_on FROM fct_deployments) d
    LEFT JOIN fct_failures f USING (deployment_key)
    CROSS JOIN grains g
),
-- Quantiles: each group's values are collected with list(), which DuckDB spills to disk under its
-- memory cap, then quantile_cont runs over the one list (list_aggregate): the same interpolation.
-- quantile_cont as the group's aggregate keeps every group's values in memory at once, which DuckDB
-- cannot spill (2.5 GB at 1M deployments; docs/performance.md, "Memory").
deployment_stats AS (
    SELECT grain, period_start, service, environment,
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
    GROUP BY ALL
),
lead_times AS (
    SELECT g.grain,
        period_start_of(l.delivered_on, g.grain)                          AS period_start,
        unnest([l.service, 'all'])                                        AS service,
        l.environment, l.lead_time_hours
    FROM (SELECT *, local_day(delivered_at, $timezone) AS delivered_on FROM fct_lead_times
          -- a negative span is a data error (reported by dq_findings), not a fast change
          WHERE lead_time_hours >= 0) l
    CROSS JOIN grains g
),
lead_time_stats AS (
    SELECT grain, period_start, service, environment,
        count(*)                                   AS changes_deployed,
        -- one pass over each group's values for all three quantiles (no NULLs: see lead_times)
        list_aggregate(list(lead_time_hours), 'quantile_cont', [0.5, 0.75, 0.9]) AS lead_time_quantiles,
        lead_time_quantiles[1]                     AS lead_time_median_hours,
        lead_time_quantiles[2]                     AS lead_time_p75_hours,
        lead_time_quantiles[3]                     AS lead_time_p90_hours,
        avg(lead_time_hours)                       AS lead_time_mean_hours
    FROM lead_times
    GROUP BY ALL
),
incidents AS (
    SELECT g.grain,
        period_start_of(i.started_on, g.grain)                          AS period_start,
        unnest([i.service, 'all'])                                      AS service,
        i.environment, i.recovery_minutes
    FROM (SELECT *, local_day(started_at, $timezone) AS started_on FROM fct_incidents) i
    CROSS JOIN grains g
    WHERE i.started_at IS NOT NULL AND i.environment IS NOT NULL
),
incident_stats AS (
    SELECT grain, period_start, service, environment,
        count(*)                                                          AS incidents,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0)      AS incidents_resolved,
        list_aggregate(list(recovery_minutes) FILTER (WHERE recovery_minutes >= 0),
                       'quantile_cont', [0.5, 0.75, 0.9])                 AS incident_recovery_quantiles,
        incident_recovery_quantiles[1]                                    AS incident_recovery_median_minutes,
        incident_recovery_quantiles[2]                                    AS incident_recovery_p75_minutes,
        incident_recovery_quantiles[3]                                    AS incident_recovery_p90_minutes,
        avg(recovery_minutes) FILTER (WHERE recovery_minutes >= 0)        AS incident_recovery_mean_minutes
    FROM incidents
    WHERE service IS NOT NULL  -- an incident naming no service counts only in 'all'
    GROUP BY ALL
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
