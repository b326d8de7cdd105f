-- build_scope_deployments_create: the deployments whose row a change-scoped build changed (added,
-- altered or gone: build_scope_deployments_changed); empty until fct_deployments is rebuilt.
-- Grain: deployment_key.
CREATE TABLE build_scope.deployments_changed (deployment_key BIGINT)
