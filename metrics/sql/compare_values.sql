-- compare_values: the raw per-item values behind the medians of a before/after comparison.
-- Grain: one row per item in either window: a change's lead time (window of its first production
-- delivery), a failed deployment's recovery (window of the deployment's finish), an incident's
-- recovery (window of its start), a pipeline run's CI time (window of its start). Windows are
-- [start_at, end_at) instants; $service NULL = every service (incidents and runs naming no service
-- count only then). Negative spans are data errors reported by dq_findings and left out, as in
-- metric_periods.
--   unit_id   the independent unit an item belongs to: the deployment that shipped a change (changes
--             shipped together share its wait); NULL: the item is its own unit
--   observed  false for a recovery still open when the data ends ($data_end_at): value is then the
--             time it has been open so far (censored), not dropped
WITH lead_times AS (
    SELECT CASE WHEN delivered_at >= $before_start_at AND delivered_at < $before_end_at THEN 'before'
                WHEN delivered_at >= $after_start_at AND delivered_at < $after_end_at THEN 'after' END AS window_name,
           'lead_time_hours' AS measure, lead_time_hours AS value, deployment_key AS unit_id, true AS observed
    FROM fct_lead_times
    WHERE environment = $environment AND ($service IS NULL OR service = $service) AND lead_time_hours >= 0
),
failed_deployments AS (
    SELECT CASE WHEN finished_at >= $before_start_at AND finished_at < $before_end_at THEN 'before'
                WHEN finished_at >= $after_start_at AND finished_at < $after_end_at THEN 'after' END,
           'failed_deployment_recovery_minutes',
           coalesce(recovery_minutes, (epoch($data_end_at) - epoch(finished_at)) / 60.0), NULL::BIGINT,
           recovery_minutes IS NOT NULL
    FROM fct_failures
    WHERE environment = $environment AND ($service IS NULL OR service = $service)
      AND (recovery_minutes >= 0 OR (recovery_minutes IS NULL AND finished_at <= $data_end_at))
),
incidents AS (
    SELECT CASE WHEN started_at >= $before_start_at AND started_at < $before_end_at THEN 'before'
                WHEN started_at >= $after_start_at AND started_at < $after_end_at THEN 'after' END,
           'incident_recovery_minutes',
           coalesce(recovery_minutes, (epoch($data_end_at) - epoch(started_at)) / 60.0), NULL::BIGINT,
           resolved_at IS NOT NULL
    FROM fct_incidents
    WHERE environment = $environment AND ($service IS NULL OR service = $service)
      AND (recovery_minutes >= 0 OR (resolved_at IS NULL AND started_at <= $data_end_at))
),
ci_runs AS (
    SELECT CASE WHEN coalesce(started_at, finished_at) >= $before_start_at
                      AND coalesce(started_at, finished_at) < $before_end_at THEN 'before'
                WHEN coalesce(started_at, finished_at) >= $after_start_at
                      AND coalesce(started_at, finished_at) < $after_end_at THEN 'after' END,
           'ci_minutes', ci_minutes, NULL::BIGINT, true
    FROM fct_pipeline_runs
    WHERE ($service IS NULL OR service = $service) AND ci_minutes >= 0
)
SELECT window_name, measure, value, unit_id, observed
FROM (SELECT * FROM lead_times UNION ALL SELECT * FROM failed_deployments
      UNION ALL SELECT * FROM incidents UNION ALL SELECT * FROM ci_runs)
WHERE window_name IS NOT NULL
