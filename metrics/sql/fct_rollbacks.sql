-- fct_rollbacks: one row per rollback event, with the deployment it rolled back.
-- Grain: rollback event (source, event_id). The target is `rolled_back_deployment` when given (an id
-- that matches no deployment leaves the rollback without a target: a data-quality finding); else the
-- latest deployment of that service in that environment exposed at or before the rollback (its first
-- event: a rollback during a canary rolls back the canary, not the deployment before it).
CREATE OR REPLACE TABLE fct_rollbacks AS
WITH rollbacks AS (
    SELECT source, event_id, service, occurred_at AS rolled_back_at, rolled_back_deployment,
        environment_group(environment, $production_environments) AS environment
    FROM stg_events
    WHERE kind = 'rollback'
),
explicit AS (
    SELECT r.source, r.event_id, d.deployment_key
    FROM rollbacks r
    JOIN fct_deployments d
      ON d.deployment_id = r.rolled_back_deployment AND d.environment = r.environment
    -- ids are meant to be unique; if two services share one, the rollback's own service wins
    QUALIFY row_number() OVER (PARTITION BY r.source, r.event_id
                               ORDER BY (d.service = r.service) DESC, d.finished_at DESC) = 1
),
latest_before AS (
    SELECT r.source, r.event_id, d.deployment_key
    FROM rollbacks r
    ASOF JOIN fct_deployments d
      ON d.service = r.service AND d.environment = r.environment AND r.rolled_back_at >= d.exposed_at
    WHERE r.rolled_back_deployment IS NULL
)
SELECT
    r.source, r.event_id, r.service, r.environment, r.rolled_back_at, r.rolled_back_deployment,
    coalesce(e.deployment_key, l.deployment_key)                           AS deployment_key,
    CASE WHEN e.deployment_key IS NOT NULL THEN 'rolled_back_deployment'
         WHEN r.rolled_back_deployment IS NOT NULL THEN 'rolled_back_deployment_unmatched'
         WHEN l.deployment_key IS NOT NULL THEN 'latest_deployment_before'
         ELSE 'no_deployment_before' END                                   AS rule
FROM rollbacks r
LEFT JOIN explicit e USING (source, event_id)
LEFT JOIN latest_before l USING (source, event_id);
