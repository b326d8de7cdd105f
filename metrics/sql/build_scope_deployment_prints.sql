-- build_scope_deployment_prints: every deployment's row as the last build left it, as a hash of every
-- column, taken before a row-scoped build rebuilds fct_deployments (build_scope_deployments_changed
-- compares). Grain: deployment_key.
INSERT INTO build_scope.row_prints
SELECT 'fct_deployments', deployment_key, hash(r) FROM main.fct_deployments r
