-- explain_deployments: the deployments behind one period's deployment figures (deployments,
-- deploys per day, failed deployments, change fail rate, unplanned deployments, rework rate), with
-- the rules that made a deployment failed. Grain: deployment_key. Parameters: $grain, $period_start
-- (first day of the period), $service ('all' = every service), $environment, $timezone.
WITH d AS (
    SELECT * FROM fct_deployments
    WHERE environment = $environment AND ($service = 'all' OR service = $service)
      AND period_start_of(local_day(finished_at, $timezone), $grain) = $period_start::DATE
),
rollbacks AS (
    SELECT r.deployment_key,
        string_agg('rolled back ' || strftime(r.rolled_back_at, '%Y-%m-%d %H:%M') || ' (' || r.rule || ')', '; '
                   ORDER BY r.rolled_back_at) AS rules
    FROM fct_rollbacks r JOIN d USING (deployment_key)
    GROUP BY r.deployment_key
),
incidents AS (
    SELECT i.deployment_key,
        string_agg('incident ' || i.incident_id || ' (' || i.attribution_rule || ')', '; '
                   ORDER BY i.started_at, i.incident_id) AS rules
    FROM fct_incidents i JOIN d USING (deployment_key)
    GROUP BY i.deployment_key
),
links AS (
    SELECT l.deployment_key, count(*) AS changes, string_agg(DISTINCT l.rule, ', ' ORDER BY l.rule) AS link_rules
    FROM fct_deployment_changes l JOIN d USING (deployment_key)
    GROUP BY l.deployment_key
)
SELECT
    'deployment'                                       AS record_type,
    d.deployment_id                                    AS record_id,
    d.service, d.environment,
    d.finished_at                                      AS at,
    f.deployment_key IS NOT NULL                       AS failed,
    d.unplanned,
    concat_ws('; ', r.rules, i.rules)                  AS rule,
    concat_ws('; ',
        CASE WHEN f.reason IS NOT NULL THEN 'failed: ' || f.reason END,
        CASE WHEN d.unplanned THEN 'unplanned' END,
        coalesce(l.changes, 0) || ' changes' || coalesce(' (' || l.link_rules || ')', ''),
        'commit ' || d.commit_sha,
        -- a progressive rollout: when users first saw it, and how far it went
        CASE WHEN d.exposed_at < d.finished_at THEN 'exposed ' || strftime(d.exposed_at, '%Y-%m-%d %H:%M') END,
        CASE WHEN NOT d.reached_full_traffic THEN 'stopped at ' || printf('%g', d.max_traffic_percent) || '% of traffic' END)
                                                       AS detail,
    d.deployment_key
FROM d
LEFT JOIN fct_failures f USING (deployment_key)
LEFT JOIN rollbacks r USING (deployment_key)
LEFT JOIN incidents i USING (deployment_key)
LEFT JOIN links l USING (deployment_key)
ORDER BY d.finished_at, d.deployment_key;
