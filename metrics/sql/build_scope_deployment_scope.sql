-- build_scope_deployment_scope: the deployments whose fct_deployments rows a row-scoped build recomputes
-- (metrics.build): in each stream with new events (build_scope_streams), the deployments new events
-- belong to and every deployment finishing since the stream's moment (its predecessor may be new).
-- Grain: (service, environment, deployment_id).
CREATE TABLE build_scope.deployment_scope AS
SELECT DISTINCT service, environment_group(environment, $production_environments) AS environment, deployment_id
FROM main.stg_events
WHERE kind = 'deployment' AND ingest_run_id > (SELECT coalesce(max(last_run_id), -1) FROM main.build_info)
UNION
SELECT d.service, d.environment, d.deployment_id
FROM main.fct_deployments d
JOIN build_scope.streams s ON s.service = d.service AND s.environment = d.environment
WHERE d.finished_at >= s.since
