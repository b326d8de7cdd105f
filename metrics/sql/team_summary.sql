-- team_summary: the summary (export_summary's columns, plus `team`) for teams, computed when read
-- from the facts of each team's services — never by adding service rows up (medians do not add).
-- Grain: (period_start, team) for one $grain and $environment, every period of the coverage clipped
-- to $from_date..$to_date, as export_summary (empty periods with 0 deployments and empty rates; no
-- rows at all for an environment without data).
-- $mapping: the teams as a list of {service, team} (a service of two teams counts in both); a
-- service no team names is in the team 'no team', never dropped. $mapping NULL: every service
-- together as 'all' (the organisation: the same figures as metric_periods' 'all' rows).
-- $groups: the teams to list, in order. Every output row's service is 'all': all of its team's services.
-- With one team listed (the dashboard's team, `--team`), only that team's facts are turned into
-- periods and aggregated: a team of 20 services out of 200 is a tenth of the 4.5M lead times of the
-- 1M-deployment warehouse (0.7 s -> 0.2 s of CPU). With several, every row is kept (the check
-- would cost more than it saves; rows of teams not listed are dropped by the final join).
-- The rules are metric_periods.sql's (periods of the deployment's finish, of the incident's start;
-- negative spans left out); tests/test_teams.py checks the two agree.
WITH mapping AS (
    SELECT unnest(coalesce($mapping, [])::STRUCT(service VARCHAR, team VARCHAR)[], recursive := true)
),
bounds AS (
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
deployments AS (
    SELECT
        period_start_of(local_day(d.finished_at, $timezone), $grain)           AS period_start,
        CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END AS team,
        d.unplanned,
        f.deployment_key IS NOT NULL                                           AS failed,
        f.caught_in_rollout,
        f.recovery_minutes
    FROM fct_deployments d
    LEFT JOIN fct_failures f USING (deployment_key)
    LEFT JOIN mapping t ON t.service = d.service
    WHERE d.environment = $environment
      AND (len($groups::VARCHAR[]) > 1 OR list_contains($groups::VARCHAR[], CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END))  -- one team: its rows only
),
deployment_stats AS (
    SELECT period_start, team,
        count(*)                                               AS deployments,
        count(*) FILTER (WHERE failed)                         AS failed_deployments,
        count(*) FILTER (WHERE unplanned)                      AS unplanned_deployments,
        count(*) FILTER (WHERE caught_in_rollout)              AS failed_deployments_caught_in_rollout,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0) AS failed_deployment_recoveries,
        quantile_cont(recovery_minutes, [0.5, 0.75, 0.9]) FILTER (WHERE recovery_minutes >= 0) AS q
    FROM deployments
    GROUP BY ALL
),
lead_times AS (
    SELECT
        period_start_of(local_day(l.delivered_at, $timezone), $grain)          AS period_start,
        CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END AS team,
        l.lead_time_hours
    FROM fct_lead_times l
    LEFT JOIN mapping t ON t.service = l.service
    WHERE l.environment = $environment AND l.lead_time_hours >= 0  -- a negative span is a data error
      AND (len($groups::VARCHAR[]) > 1 OR list_contains($groups::VARCHAR[], CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END))
),
lead_time_stats AS (
    SELECT period_start, team,
        count(*)                                         AS changes_deployed,
        quantile_cont(lead_time_hours, [0.5, 0.75, 0.9]) AS q,
        avg(lead_time_hours)                             AS lead_time_mean_hours
    FROM lead_times
    GROUP BY ALL
),
incidents AS (
    SELECT
        period_start_of(local_day(i.started_at, $timezone), $grain)            AS period_start,
        CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END AS team,
        i.recovery_minutes
    FROM fct_incidents i
    LEFT JOIN mapping t ON t.service = i.service
    WHERE i.environment = $environment AND i.started_at IS NOT NULL
      AND ($mapping IS NULL OR i.service IS NOT NULL)  -- an incident naming no service is no team's
      AND (len($groups::VARCHAR[]) > 1 OR list_contains($groups::VARCHAR[], CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END))
),
incident_stats AS (
    SELECT period_start, team,
        count(*)                                                     AS incidents,
        count(recovery_minutes) FILTER (WHERE recovery_minutes >= 0) AS incidents_resolved,
        quantile_cont(recovery_minutes, [0.5, 0.75, 0.9]) FILTER (WHERE recovery_minutes >= 0) AS q
    FROM incidents
    GROUP BY ALL
),
groups AS (
    SELECT unnest($groups::VARCHAR[]) AS team, generate_subscripts($groups::VARCHAR[], 1) AS position
)
SELECT
    p.period_start,
    'all'                                                        AS service,
    coalesce(d.deployments, 0)                                   AS deployments,
    round(coalesce(d.deployments, 0) / p.observed_days, 6)       AS deploys_per_day,
    p.observed_days,
    round(l.q[1], 6)                                             AS lead_time_median_hours,
    round(d.failed_deployments / d.deployments, 6)               AS change_failure_rate,
    coalesce(d.failed_deployments, 0)                            AS failed_deployments,
    round(i.q[1], 6)                                             AS incident_recovery_median_minutes,
    round(d.q[1], 6)                                             AS failed_deployment_recovery_median_minutes,
    round(d.unplanned_deployments / d.deployments, 6)            AS rework_rate,
    g.team,
    $environment                                                 AS environment,
    coalesce(l.changes_deployed, 0)                              AS changes_deployed,
    round(l.q[2], 6)                                             AS lead_time_p75_hours,
    round(l.q[3], 6)                                             AS lead_time_p90_hours,
    round(l.lead_time_mean_hours, 6)                             AS lead_time_mean_hours,
    coalesce(d.unplanned_deployments, 0)                         AS unplanned_deployments,
    coalesce(i.incidents, 0)                                     AS incidents,
    coalesce(i.incidents_resolved, 0)                            AS incidents_resolved,
    round(i.q[2], 6)                                             AS incident_recovery_p75_minutes,
    round(i.q[3], 6)                                             AS incident_recovery_p90_minutes,
    coalesce(d.failed_deployment_recoveries, 0)                  AS failed_deployment_recoveries,
    round(d.q[2], 6)                                             AS failed_deployment_recovery_p75_minutes,
    round(d.q[3], 6)                                             AS failed_deployment_recovery_p90_minutes,
    coalesce(d.failed_deployments_caught_in_rollout, 0)          AS failed_deployments_caught_in_rollout,
    round(d.failed_deployments_caught_in_rollout / nullif(d.failed_deployments, 0), 6) AS caught_in_rollout_share,
    $grain                                                       AS grain,
    $timezone                                                    AS time_zone,
    $definitions_version                                         AS definitions_version
FROM periods p
CROSS JOIN groups g
LEFT JOIN deployment_stats d ON d.period_start = p.period_start AND d.team = g.team
LEFT JOIN lead_time_stats l ON l.period_start = p.period_start AND l.team = g.team
LEFT JOIN incident_stats i ON i.period_start = p.period_start AND i.team = g.team
ORDER BY p.period_start, g.position
