-- dq_findings: data-quality findings, one row per thing a lead should know the metrics left out or
-- could not link. Grain: (finding, entity_id). Findings:
--   change_not_deployed          a merged change no production deployment shipped (includes changes
--                                merged before a service's first deployment ever seen)
--   change_unknown               a deployment lists a change with no change.merged event
--   incident_unresolved          an incident with no resolution: left out of recovery times
--   incident_never_started       a resolution with no detected/reported event
--   incident_link_unmatched      caused_by_deployment / caused_by_change / caused_by_commit matches no
--                                deployment (exposed before the incident, for a change or a commit)
--   rollback_target_unmatched    rolled_back_deployment matches no deployment
--   negative_lead_time           delivered before its lead time started: left out of lead times
--   negative_recovery            resolved before it started: left out of recovery times
--   negative_failed_deployment_recovery  a failed deployment recovered before it was exposed: left
--                                out of failed-deployment recovery times
--   first_commit_after_merge     a change whose first_commit_at is after its merged_at (rewritten or
--                                amended commits): its lead time starts at the earliest of the three
--   deployment_without_changes   a production deployment no change is linked to (and why)
--   incident_without_service     an incident naming no service: only in 'all', never window-attributed
--   span_missing                 a production-delivered change without first_commit_at / opened_at /
--                                first_review_at: it counts only in the breakdown stages it has
--   negative_span                a breakdown stage (coding, pickup, review, deploy wait) ends before
--                                it starts: left out of that stage's statistics
--   pipeline_unfinished          a pipeline run started but never finished: left out of durations
--   negative_duration            a pipeline run or stage finished before it started
--   event_rejected               a rejected input line (rejects table), once per file and line
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
-- only a deployment's own list can name a change never seen: the other rules link from fct_changes
WHERE l.rule = 'explicit' AND NOT EXISTS (SELECT 1 FROM fct_changes c WHERE c.change_id = l.change_id)
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
            WHEN 'caused_by_change_unmatched'
            THEN 'caused_by_change "' || caused_by_change || '" matches no deployment that shipped it before the incident'
            ELSE 'caused_by_commit "' || caused_by_commit || '" matches no deployment exposed before the incident' END
         || coalesce(' (read by: ' || cause_rule || ')', '')
FROM fct_incidents
WHERE attribution_rule IN ('caused_by_deployment_unmatched', 'caused_by_change_unmatched', 'caused_by_commit_unmatched')
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
FROM fct_incidents WHERE recovery_minutes < 0
UNION ALL
SELECT 'negative_failed_deployment_recovery', 'deployment', deployment_id, service, environment, exposed_at,
       'recovered (' || recovery_rule || ') ' || round(-recovery_minutes, 1)
         || ' min before it was first exposed: left out of failed-deployment recovery times'
FROM fct_failures WHERE recovery_minutes < 0
UNION ALL
SELECT 'first_commit_after_merge', 'change', change_id, NULL, 'production', merged_at,
       'first commit dated ' || round((epoch(first_commit_at) - epoch(merged_at)) / 3600.0, 2)
         || ' h after the merge (rewritten or amended commits): lead time starts at ' || lead_start_field
FROM fct_changes WHERE first_commit_at > merged_at
UNION ALL
SELECT 'deployment_without_changes', 'deployment', d.deployment_id, d.service, d.environment, d.finished_at,
       CASE WHEN d.change_ids IS NOT NULL THEN 'its changes list is empty'
            WHEN d.shipped_commits IS NOT NULL THEN 'none of its shipped commits is a known merge commit'
            WHEN d.repository IS NULL THEN 'no repository is known for ' || d.service || ', so no merge can be linked'
            WHEN d.previous_finished_at IS NULL
                THEN 'first deployment of ' || d.service || ' seen: without a changes list it ships nothing'
            ELSE 'no change of ' || d.repository || ' merged since the previous deployment ('
                 || d.previous_deployment_id || ')' END
FROM fct_deployments d
WHERE d.environment = 'production'
  AND NOT EXISTS (SELECT 1 FROM fct_deployment_changes l WHERE l.deployment_key = d.deployment_key)
UNION ALL
SELECT 'incident_without_service', 'incident', incident_id, NULL, environment, started_at,
       'names no service: counted only in the organisation''s figures (all), never attributed by time window'
FROM fct_incidents WHERE service IS NULL AND started_at IS NOT NULL
UNION ALL
SELECT 'span_missing', 'change', change_id, service, environment, delivered_at,
       'no ' || concat_ws(', ', CASE WHEN first_commit_at IS NULL THEN 'first_commit_at' END,
                          CASE WHEN opened_at IS NULL THEN 'opened_at' END,
                          CASE WHEN first_review_at IS NULL THEN 'first_review_at' END)
         || ': counts only in the breakdown stages it has'
FROM fct_change_stages
WHERE environment = 'production' AND (first_commit_at IS NULL OR opened_at IS NULL OR first_review_at IS NULL)
UNION ALL
SELECT 'negative_span', 'change', change_id, service, environment, delivered_at,
       concat_ws('; ',
           CASE WHEN coding_hours < 0 THEN 'opened ' || round(-coding_hours, 2) || ' h before its first commit' END,
           CASE WHEN pickup_hours < 0 THEN 'first review ' || round(-pickup_hours, 2) || ' h before it was opened' END,
           CASE WHEN review_hours < 0 THEN 'merged ' || round(-review_hours, 2) || ' h before its first review' END,
           CASE WHEN deploy_wait_hours < 0 THEN 'deployed ' || round(-deploy_wait_hours, 2) || ' h before it was merged' END)
         || ': left out of those stages'
FROM fct_change_stages
WHERE environment = 'production'
  AND (coding_hours < 0 OR pickup_hours < 0 OR review_hours < 0 OR deploy_wait_hours < 0)
UNION ALL
SELECT 'pipeline_unfinished', 'pipeline_run', run_id, service, NULL, started_at,
       'started, no finished event (still running, or the event was lost): left out of durations'
FROM fct_pipeline_runs WHERE finished_at IS NULL
UNION ALL
SELECT 'negative_duration', 'pipeline_run', run_id, service, NULL, started_at,
       'finished ' || round(-duration_minutes, 1) || ' min before it started: left out of durations'
FROM fct_pipeline_runs WHERE duration_minutes < 0
UNION ALL
SELECT 'negative_duration', 'stage_run', s.stage_run_id, r.service, NULL, s.started_at,
       'stage ' || coalesce(s.stage, '?') || ' finished ' || round(-s.duration_minutes, 1)
         || ' min before it started: left out of durations'
FROM fct_stage_runs s LEFT JOIN fct_pipeline_runs r USING (run_id) WHERE s.duration_minutes < 0
UNION ALL
SELECT 'event_rejected', 'line', coalesce(j.file, '?') || ':' || coalesce(j.line_no::VARCHAR, '?'), NULL, NULL,
       r.started_at, j.reason
FROM (SELECT DISTINCT ON (file, line_no, raw) * FROM rejects ORDER BY file, line_no, raw, ingest_run_id DESC) j
LEFT JOIN ingest_runs r ON r.run_id = j.ingest_run_id;
