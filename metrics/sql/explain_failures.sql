-- explain_failures: the failed deployments behind one period's failed-deployment recovery figures,
-- with why each failed (reason) and what recovered it (recovery_rule). Grain: deployment_key.
-- Parameters as explain_deployments.
SELECT
    'deployment'                                       AS record_type,
    f.deployment_id                                    AS record_id,
    f.service, f.environment,
    f.finished_at                                      AS at,
    f.recovery_minutes,
    'failed: ' || f.reason || '; recovered by ' || coalesce(f.recovery_rule, 'nothing yet') AS rule,
    concat_ws('; ',
        CASE WHEN f.rolled_back_at IS NOT NULL THEN 'rolled back ' || strftime(f.rolled_back_at, '%Y-%m-%d %H:%M') END,
        CASE WHEN f.incident_count > 0 THEN 'incidents ' || array_to_string(f.incident_ids, ', ') END,
        CASE WHEN f.incident_count > 0 AND f.incidents_resolved_at IS NULL THEN 'an incident is unresolved' END)
                                                       AS detail,
    f.reason, f.recovery_rule, f.recovered_at
FROM fct_failures f
WHERE f.environment = $environment AND ($service = 'all' OR f.service = $service)
  AND period_start_of(local_day(f.finished_at, $timezone), $grain) = $period_start::DATE
ORDER BY f.finished_at, f.deployment_key;
