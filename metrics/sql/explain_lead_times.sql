-- explain_lead_times: the changes behind one period's lead-time figures, each with the deployment
-- that first shipped it, the rule that linked them (fct_deployment_changes.rule) and where its lead
-- time starts (lead_start_field). Grain: change_id. Parameters as explain_deployments.
SELECT
    'change'                                           AS record_type,
    l.change_id                                        AS record_id,
    l.service, l.environment,
    l.delivered_at                                     AS at,
    l.lead_time_hours,
    'shipped by ' || d.deployment_id || ' (' || coalesce(dc.rule, '?') || '); starts at '
        || coalesce(l.lead_start_field, 'unknown: no change.merged event') AS rule,
    CASE WHEN l.lead_started_at IS NULL THEN 'no change.merged event: no start'
         ELSE l.lead_start_field || ' ' || strftime(l.lead_started_at, '%Y-%m-%d %H:%M') END AS detail,
    d.deployment_id, dc.rule                           AS link_rule, l.lead_start_field, l.lead_started_at
FROM fct_lead_times l
JOIN fct_deployments d USING (deployment_key)
LEFT JOIN fct_deployment_changes dc ON dc.deployment_key = l.deployment_key AND dc.change_id = l.change_id
WHERE l.environment = $environment AND ($service = 'all' OR l.service = $service)
  AND period_start_of(local_day(l.delivered_at, $timezone), $grain) = $period_start::DATE
ORDER BY l.delivered_at, l.change_id;
