-- team_levels: the DORA levels of teams, classified when read from each team's own figures per period
-- (team_summary.sql: the facts of all its services together, never its services' rows added up) by
-- the same rules as the stored service levels (the macro classify_levels, metric_levels.sql's rules).
-- Grain: (period_start, team, metric) for one $report and $grain, production only; the columns of
-- export_levels, `service` 'all' (every service of the team) and `team` after it.
-- $figures: team_summary's rows for the periods with data (a deployment, a lead time or an incident:
-- the periods metric_periods has rows for), each with its `position` in the listing's team order.
WITH figures AS (
    SELECT unnest($figures::STRUCT(period_start DATE, team VARCHAR, position INTEGER, deployments BIGINT,
                                   failed_deployments BIGINT, deploys_per_day DOUBLE,
                                   lead_time_median_hours DOUBLE, changes_deployed BIGINT,
                                   change_failure_rate DOUBLE,
                                   failed_deployment_recovery_median_minutes DOUBLE,
                                   failed_deployment_recoveries BIGINT,
                                   incident_recovery_median_minutes DOUBLE, incidents_resolved BIGINT,
                                   rework_rate DOUBLE)[], recursive := true)
)
SELECT
    l.period_start, 'all' AS service, l.service AS team, l.environment, l.metric, l.value, l.unit,
    l.sample_size, l.survey_answer, l.survey_answer_text, l.level, l.level_rule, l.report,
    l.quickcheck_score, l.benchmark_2025_score, l.score_vs_benchmark, l.grain
FROM classify_levels($level_tiers, (
    SELECT list({'grain': $grain, 'period_start': period_start, 'service': team, 'environment': 'production',
                 'days': period_days(period_start, $grain), 'deployments': deployments,
                 'failed_deployments': failed_deployments, 'deploys_per_day': deploys_per_day,
                 'lead_time_median_hours': lead_time_median_hours, 'changes_deployed': changes_deployed,
                 'change_failure_rate': change_failure_rate,
                 'failed_deployment_recovery_median_minutes': failed_deployment_recovery_median_minutes,
                 'failed_deployment_recoveries': failed_deployment_recoveries,
                 'incident_recovery_median_minutes': incident_recovery_median_minutes,
                 'incidents_resolved': incidents_resolved, 'rework_rate': rework_rate})
    FROM figures)) l
JOIN (SELECT DISTINCT team, position FROM figures) f ON f.team = l.service
WHERE l.report = $report
ORDER BY l.period_start, f.position,
    list_position(['deployment_frequency', 'lead_time', 'change_failure_rate',
                   'failed_deployment_recovery_time', 'incident_recovery_time', 'deployment_rework_rate'],
                  l.metric)
