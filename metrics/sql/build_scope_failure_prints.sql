-- build_scope_failure_prints: every failed deployment's row as the last build left it, as a hash of
-- every column, taken before a row-scoped build rebuilds fct_failures (build_scope_failures_changed
-- compares). Grain: deployment_key.
INSERT INTO build_scope.row_prints
SELECT 'fct_failures', deployment_key, hash(r) FROM main.fct_failures r
