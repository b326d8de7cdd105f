-- deploy_scope_stg_events: the staged events fct_deployments reads in a row-scoped build (metrics.build):
-- every event of the deployments it recomputes (build_scope_deployment_scope); of each stream's last
-- deployment finishing before its moment, the predecessor of the first one recomputed; and of one
-- deployment naming its service's repository, the name a deployment naming none takes. The rows
-- computed for the last two are left out of the merge. Found by key, then read whole by rowid (see
-- metrics.build ROW_SCOPES).
CREATE TABLE build_scope.stg_events AS
WITH kept AS (
    SELECT d.service, d.environment, d.deployment_id, d.finished_at
    FROM main.fct_deployments d
    JOIN build_scope.streams s ON s.service = d.service AND s.environment = d.environment
    WHERE d.finished_at < s.since
),
predecessors AS (
    SELECT service, environment, arg_max(deployment_id, (finished_at, deployment_id)) AS deployment_id
    FROM kept GROUP BY ALL
),
namers AS (
    SELECT service, arg_min(environment_group(environment, $production_environments), deployment_id) AS environment,
           min(deployment_id) AS deployment_id
    FROM main.stg_events
    WHERE kind = 'deployment' AND repository IS NOT NULL
      AND service IN (SELECT service FROM build_scope.streams)
    GROUP BY service
),
read AS (
    SELECT service, environment, deployment_id FROM build_scope.deployment_scope
    UNION SELECT * FROM predecessors
    UNION SELECT * FROM namers
)
-- by service and id first: the environment's group is worked out for those events only
SELECT * FROM main.stg_events
WHERE rowid IN (
    SELECT e.rowid
    FROM (SELECT rowid, service, environment, deployment_id FROM main.stg_events
          WHERE kind = 'deployment' AND (service, deployment_id) IN (SELECT service, deployment_id FROM read)) e
    WHERE (e.service, environment_group(e.environment, $production_environments), e.deployment_id)
          IN (SELECT service, environment, deployment_id FROM read))
