-- explain_change_stages: the changes behind one period's lead-time breakdown figures, with all four
-- spans and the timestamps they come from. Grain: change_id. Parameters as explain_deployments.
SELECT
    'change'                                           AS record_type,
    s.change_id                                        AS record_id,
    s.service, s.environment,
    s.delivered_at                                     AS at,
    s.coding_hours, s.pickup_hours, s.review_hours, s.deploy_wait_hours,
    'shipped by ' || d.deployment_id || ' (' || coalesce(dc.rule, '?') || ')' AS rule,
    concat_ws(' → ',
        'first commit ' || coalesce(strftime(s.first_commit_at, '%Y-%m-%d %H:%M'), '?'),
        'opened ' || coalesce(strftime(s.opened_at, '%Y-%m-%d %H:%M'), '?'),
        'first review ' || coalesce(strftime(s.first_review_at, '%Y-%m-%d %H:%M'), '?'),
        'merged ' || coalesce(strftime(s.merged_at, '%Y-%m-%d %H:%M'), '?'),
        'deployed ' || strftime(s.delivered_at, '%Y-%m-%d %H:%M'))  AS detail,
    d.deployment_id, s.first_commit_at, s.opened_at, s.first_review_at, s.merged_at
FROM fct_change_stages s
JOIN fct_deployments d USING (deployment_key)
LEFT JOIN fct_deployment_changes dc ON dc.deployment_key = s.deployment_key AND dc.change_id = s.change_id
WHERE s.environment = $environment AND ($service = 'all' OR s.service = $service)
  AND period_start_of(local_day(s.delivered_at, $timezone), $grain) = $period_start::DATE
ORDER BY s.delivered_at, s.change_id;
