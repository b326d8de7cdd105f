-- fct_lead_times: one row per (change, environment) the change reached: its change lead time.
-- Grain: (change_id, environment). Lead time = finish of the first deployment in that environment
-- that shipped the change − the change's lead_started_at (the earliest of first commit, opened and
-- merged: fct_changes).
-- Changes listed by a deployment but never reported as merged have no start: lead_time_hours NULL.
CREATE OR REPLACE TABLE fct_lead_times AS
WITH first_delivery AS (
    -- the first to finish; ties: the service, then the deployment id, named first. Each deployment's
    -- place in that order is one integer, so the aggregate over 5.8M links keeps two integers per
    -- (change, environment) instead of a struct of two strings. Deployments tied in finish time,
    -- service and id are in different environments, never compared here.
    SELECT l.change_id, d.environment, arg_min(d.deployment_key, d.finish_order) AS deployment_key
    FROM fct_deployment_changes l
    JOIN (SELECT deployment_key, environment,
                 row_number() OVER (ORDER BY finished_at, service, deployment_id) AS finish_order
          FROM fct_deployments) d USING (deployment_key)
    GROUP BY l.change_id, d.environment
)
SELECT
    f.change_id, f.environment, f.deployment_key, d.service, d.finished_at AS delivered_at,
    c.lead_started_at, c.lead_start_field,
    (epoch(d.finished_at) - epoch(c.lead_started_at)) / 3600.0             AS lead_time_hours
FROM first_delivery f
JOIN fct_deployments d USING (deployment_key)
LEFT JOIN fct_changes c USING (change_id);
