-- dq_findings: data-quality findings, one row per thing a lead should know the metrics left out or
-- could not link. Grain: (finding, entity_id). Findings:
--   change_not_deployed          a merged change no production deployment shipped (includes changes
--                                merged before a service's first deployment ever seen)
--   change_unknown               a deployment lists a change with no change.merged event
--   incident_unresolved          an incident with no resolution: left out of recovery times
--   incident_never_started       a resolution with no detected/reported event
--   incident_link_unmatched      caused_by_deployment / caused_by_commit matches no deployment
--   rollback_target_unmatched    rolled_back_deployment matches no deployment
--   negative_lead_time           delivered before its lead time started: left out of lead times
--   negative_recovery            resolved before it started: left out of recovery times
CREATE OR REPLACE TABLE dq_findings AS
SELECT 'change_not_deployed' AS finding, 'change' AS entity_type, c.change_id AS entity_id,
       NULL::VARCHAR AS service, 'production' AS environment, c.merged_at AS occurred_at,
       'merged ' || strftime(c.merged_at, '%Y-%m-%d %H:%M UTC') || ' in ' || coalesce(c.repository, '?')
         || '; no production deployment shipped it' AS detail
FROM fct_changes c
WHERE NOT EXISTS (SELECT 1 FROM fct_lead_times l WHERE l.change_id = c.change_id AND l.environment = 'production')
UNION ALL
SELECT 'change_unknown', 'change', l.change_id, d.service, d.environment, d.finished_at,
       'deployment ' || d.deployment_id || ' lists it, but no change.merged event was seen'
FROM fct_deployment_changes l JOIN fct_deployments d USING (deployment_key)
WHERE NOT EXISTS (SELECT 1 FROM fct_changes c WHERE c.change_id = l.change_id)
UNION ALL
SELECT 'incident_unresolved', 'incident', incident_id, service, environment, started_at,
       'no incident.resolved event; left out of recovery times'
FROM fct_incidents WHERE resolved_at IS NULL AND started_at IS NOT NULL
UNION ALL
SELECT 'incident_never_started', 'incident', incident_id, service, environment, resolved_at,
       'incident.resolved without a detected/reported event; left out of the metrics'
FROM fct_incidents WHERE started_at IS NULL
UNION ALL
SELECT 'incident_link_unmatched', 'incident', incident_id, service, environment, started_at,
       CASE attribution_rule WHEN 'caused_by_deployment_unmatched'
            THEN 'caused_by_deployment "' || caused_by_deployment || '" matches no deployment in ' || environment
            ELSE 'caused_by_commit "' || caused_by_commit || '" matches no deployment finished before the incident' END
FROM fct_incidents WHERE attribution_rule IN ('caused_by_deployment_unmatched', 'caused_by_commit_unmatched')
UNION ALL
SELECT 'rollback_target_unmatched', 'rollback', event_id, service, environment, rolled_back_at,
       'rolled_back_deployment "' || rolled_back_deployment || '" matches no deployment'
FROM fct_rollbacks WHERE rule = 'rolled_back_deployment_unmatched'
UNION ALL
SELECT 'negative_lead_time', 'change', change_id, service, environment, delivered_at,
       'delivered ' || round(-lead_time_hours, 2) || ' h before its ' || lead_start_field
FROM fct_lead_times WHERE lead_time_hours < 0
UNION ALL
SELECT 'negative_recovery', 'incident', incident_id, service, environment, started_at,
       'resolved ' || round(-recovery_minutes, 1) || ' min before it started'
FROM fct_incidents WHERE recovery_minutes < 0;
