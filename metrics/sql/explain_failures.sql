-- explain_failures: the failed deployments behind one period's failed-deployment figures (recovery
-- times, caught in rollout), with why each failed (reason), what recovered it (recovery_rule), from
-- when its recovery runs (recovery_from: its finish, or its first exposure when recovered before it
-- finished), the highest traffic share it reached before recovering (blast_radius_percent) and
-- whether it was caught before its rollout reached 100% (caught_in_rollout). Grain: deployment_key.
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
        CASE WHEN f.incident_count > 0 AND f.incidents_resolved_at IS NULL THEN 'an incident is unresolved' END,
        CASE f.recovery_from WHEN 'exposure' THEN 'recovered before it finished: from its first exposure '
                                                  || strftime(f.exposed_at, '%Y-%m-%d %H:%M') END,
        'blast radius ' || printf('%g', f.blast_radius_percent) || '% of traffic',
        CASE WHEN f.caught_in_rollout THEN 'caught in rollout' END)
                                                       AS detail,
    f.reason, f.recovery_rule, f.recovered_at, f.recovery_from, f.exposed_at, f.blast_radius_percent,
    f.caught_in_rollout
FROM fct_failures f
WHERE f.environment = $environment AND ($service = 'all' OR f.service = $service)
  AND period_start_of(local_day(f.finished_at, $timezone), $grain) = $period_start::DATE
ORDER BY f.finished_at, f.deployment_key;
