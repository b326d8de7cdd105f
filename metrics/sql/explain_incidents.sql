-- explain_incidents: the incidents behind one period's incident figures (incidents, resolved,
-- incident recovery time): those that started in the period, with the deployment each is attributed
-- to, the rule that attributed it and how an explicit cause was read (cause_rule). Grain:
-- incident_id. Service 'all' includes incidents that name no service, as metric_periods does.
-- Parameters as explain_deployments.
SELECT
    'incident'                                         AS record_type,
    i.incident_id                                      AS record_id,
    i.service, i.environment,
    i.started_at                                       AS at,
    i.recovery_minutes,
    i.attribution_rule || coalesce(' → ' || d.deployment_id, '') AS rule,
    CASE WHEN i.resolved_at IS NULL THEN 'unresolved'
         ELSE 'resolved ' || strftime(i.resolved_at, '%Y-%m-%d %H:%M') END
        || coalesce('; severity ' || i.severity, '')
        || coalesce('; cause read by: ' || i.cause_rule, '') AS detail,
    i.attribution_rule, d.deployment_id, i.resolved_at, i.cause_rule
FROM fct_incidents i
LEFT JOIN fct_deployments d USING (deployment_key)
WHERE i.environment = $environment AND i.started_at IS NOT NULL
  AND ($service = 'all' OR i.service = $service)
  AND period_start_of(local_day(i.started_at, $timezone), $grain) = $period_start::DATE
ORDER BY i.started_at, i.incident_id;
