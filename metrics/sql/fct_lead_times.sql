-- fct_lead_times: one row per (change, environment) the change reached: its change lead time.
-- Grain: (change_id, environment). Lead time = finish of the first deployment in that environment
-- that shipped the change − the change's lead_started_at (the earliest of first commit, opened and
-- merged: fct_changes).
-- Changes listed by a deployment but never reported as merged have no start: lead_time_hours NULL.
CREATE OR REPLACE TABLE fct_lead_times AS
WITH first_delivery AS (
    -- the first to finish; ties: the service, then the deployment id, named first
    SELECT l.change_id, d.environment,
           arg_min(l.deployment_key, (d.finished_at, d.service, d.deployment_id)) AS deployment_key
    FROM fct_deployment_changes l
    JOIN fct_deployments d USING (deployment_key)
    GROUP BY l.change_id, d.environment
)
SELECT
    f.change_id, f.environment, f.deployment_key, d.service, d.finished_at AS delivered_at,
    c.lead_started_at, c.lead_start_field,
    (epoch(d.finished_at) - epoch(c.lead_started_at)) / 3600.0             AS lead_time_hours
FROM first_delivery f
JOIN fct_deployments d USING (deployment_key)
LEFT JOIN fct_changes c USING (change_id);
