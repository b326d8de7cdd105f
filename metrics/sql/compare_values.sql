-- compare_values: the raw per-item values behind the medians of a before/after comparison (or of a
-- story's baseline and phases). Grain: one row per item in any window: a change's lead time (window
-- of its first production delivery), a failed deployment's recovery (window of the deployment's
-- finish), an incident's recovery (window of its start), a pipeline run's CI time (window of its
-- start). $windows: named [start_at, end_at) instants, not overlapping, all read in this one scan;
-- $services: the services compared (a service, a team's services), NULL = every service (incidents
-- and runs naming no service count only then). Negative spans are data errors reported by
-- dq_findings and left out, as in metric_periods.
-- Window and measure are small integers, not names: millions of rows reach numpy as four plain
-- columns (a string per row cost a third of the query's time on the 1M-deployment warehouse).
--   window_index   the window's position in $windows (0-based)
--   measure_index  the measure's position in $measures (metrics.compare.MEASURES, 0-based): lead_time_hours,
--                  failed_deployment_recovery_minutes, incident_recovery_minutes, ci_minutes
--   unit_id        the independent unit an item belongs to: the deployment that shipped a change
--                  (changes shipped together share its wait); NULL: the item is its own unit
--   observed       false for a recovery still open when the data ends ($data_end_at): value is then
--                  the time it has been open so far (censored), not dropped
WITH windows AS (
    SELECT unnest(ws, recursive := true), (generate_subscripts(ws, 1) - 1)::USMALLINT AS window_index
    FROM (SELECT $windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                  first_day DATE, last_day DATE)[] AS ws)
),
lead_times AS (
    SELECT w.window_index,
           (list_position($measures::VARCHAR[], 'lead_time_hours') - 1)::UTINYINT AS measure_index,
           l.lead_time_hours AS value,
           l.deployment_key AS unit_id, true AS observed
    FROM fct_lead_times l
    JOIN windows w ON l.delivered_at >= w.start_at AND l.delivered_at < w.end_at
    WHERE l.environment = $environment AND l.lead_time_hours >= 0
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], l.service))
),
failed_deployments AS (
    SELECT w.window_index,
           (list_position($measures::VARCHAR[], 'failed_deployment_recovery_minutes') - 1)::UTINYINT,
           coalesce(f.recovery_minutes, (epoch($data_end_at) - epoch(f.finished_at)) / 60.0), NULL::BIGINT,
           f.recovery_minutes IS NOT NULL
    FROM fct_failures f
    JOIN windows w ON f.finished_at >= w.start_at AND f.finished_at < w.end_at
    WHERE f.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], f.service))
      AND (f.recovery_minutes >= 0 OR (f.recovery_minutes IS NULL AND f.finished_at <= $data_end_at))
),
incidents AS (
    SELECT w.window_index,
           (list_position($measures::VARCHAR[], 'incident_recovery_minutes') - 1)::UTINYINT,
           coalesce(i.recovery_minutes, (epoch($data_end_at) - epoch(i.started_at)) / 60.0), NULL::BIGINT,
           i.resolved_at IS NOT NULL
    FROM fct_incidents i
    JOIN windows w ON i.started_at >= w.start_at AND i.started_at < w.end_at
    WHERE i.environment = $environment
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], i.service))
      AND (i.recovery_minutes >= 0 OR (i.resolved_at IS NULL AND i.started_at <= $data_end_at))
),
ci_runs AS (
    SELECT w.window_index, (list_position($measures::VARCHAR[], 'ci_minutes') - 1)::UTINYINT,
           r.ci_minutes, NULL::BIGINT, true
    FROM fct_pipeline_runs r
    JOIN windows w ON coalesce(r.started_at, r.finished_at) >= w.start_at
                  AND coalesce(r.started_at, r.finished_at) < w.end_at
    WHERE ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], r.service)) AND r.ci_minutes >= 0
)
SELECT window_index, measure_index, value, unit_id, observed
FROM (SELECT * FROM lead_times UNION ALL SELECT * FROM failed_deployments
      UNION ALL SELECT * FROM incidents UNION ALL SELECT * FROM ci_runs)
