-- build_scope_deployment_prints: every deployment's row as the last build left it, as a hash of every
-- column, taken before a change-scoped build rebuilds fct_deployments (build_scope_deployments_changed
-- compares). Grain: deployment_key.
CREATE TABLE build_scope.deployment_prints AS
SELECT deployment_key, hash(r) AS print FROM main.fct_deployments r
