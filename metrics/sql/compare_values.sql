-- compare_values: the raw per-item values behind the medians of a before/after comparison.
-- Grain: one row per item in either window: a change's lead time (window of its first production
-- delivery), a failed deployment's recovery (window of the deployment's finish), an incident's
-- recovery (window of its start). Windows are [start_at, end_at) instants; $service NULL = every
-- service (incidents naming no service count only then). Negative spans are data errors reported by
-- dq_findings and left out, as in metric_periods.
WITH lead_times AS (
    SELECT CASE WHEN delivered_at >= $before_start_at AND delivered_at < $before_end_at THEN 'before'
                WHEN delivered_at >= $after_start_at AND delivered_at < $after_end_at THEN 'after' END AS window_name,
           'lead_time_hours' AS measure, lead_time_hours AS value
    FROM fct_lead_times
    WHERE environment = $environment AND ($service IS NULL OR service = $service) AND lead_time_hours >= 0
),
failed_deployments AS (
    SELECT CASE WHEN finished_at >= $before_start_at AND finished_at < $before_end_at THEN 'before'
                WHEN finished_at >= $after_start_at AND finished_at < $after_end_at THEN 'after' END,
           'failed_deployment_recovery_minutes', recovery_minutes
    FROM fct_failures
    WHERE environment = $environment AND ($service IS NULL OR service = $service) AND recovery_minutes >= 0
),
incidents AS (
    SELECT CASE WHEN started_at >= $before_start_at AND started_at < $before_end_at THEN 'before'
                WHEN started_at >= $after_start_at AND started_at < $after_end_at THEN 'after' END,
           'incident_recovery_minutes', recovery_minutes
    FROM fct_incidents
    WHERE environment = $environment AND ($service IS NULL OR service = $service) AND recovery_minutes >= 0
)
SELECT window_name, measure, value
FROM (SELECT * FROM lead_times UNION ALL SELECT * FROM failed_deployments UNION ALL SELECT * FROM incidents)
WHERE window_name IS NOT NULL
