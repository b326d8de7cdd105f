-- metric_levels: each DORA metric of each period classified against the DORA report's performance
-- levels (elite / high / medium / low), each metric on its own, for the 2023 and the 2024 report;
-- and scored 0-10 the way DORA's Quick Check scores an answer, beside its 2025 all-industries mean.
-- Grain: (report, grain, period_start, service, environment, metric), grains week / month / quarter
-- (a day cannot tell weekly from monthly), production only (the reports describe delivery to
-- production). Readers pick one report ([levels] report in dora.toml). Sources and the mapping rules: docs/metrics.md "DORA levels".
--
-- The rules (survey answer buckets, each report's level ranges, the nearest typical change fail rate,
-- the Quick Check scores) are the stored macro classify_levels (metrics/sql/macro_classify_levels.sql),
-- shared with the team levels read at query time (metrics/sql/team_levels.sql).
CREATE OR REPLACE TABLE metric_levels AS
SELECT * FROM classify_levels($level_tiers, (
    SELECT list({'grain': grain, 'period_start': period_start, 'service': service, 'environment': environment,
                 'days': days, 'deployments': deployments, 'failed_deployments': failed_deployments,
                 'deploys_per_day': deploys_per_day, 'lead_time_median_hours': lead_time_median_hours,
                 'changes_deployed': changes_deployed, 'change_failure_rate': change_failure_rate,
                 'failed_deployment_recovery_median_minutes': failed_deployment_recovery_median_minutes,
                 'failed_deployment_recoveries': failed_deployment_recoveries,
                 'incident_recovery_median_minutes': incident_recovery_median_minutes,
                 'incidents_resolved': incidents_resolved, 'rework_rate': rework_rate})
    FROM metric_periods
    -- DORA's levels describe delivery to production: other environments have none. Day periods are
    -- left out: a single day cannot tell weekly from monthly deployments, so a level per day would
    -- only mislead (and cost the most rows).
    WHERE grain <> 'day' AND environment = 'production'
));
