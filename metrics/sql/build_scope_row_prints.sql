-- build_scope_row_prints: every row of a fact a row-scoped build rebuilds whole ($model: fct_deployments,
-- fct_failures; metrics.build ROW_NOTES) as the last build left it, one hash of every column per
-- deployment, taken before the fact is rebuilt (build_scope_rows_changed compares). Grain: deployment_key.
INSERT INTO build_scope.row_prints
SELECT $model, deployment_key, hash(r) FROM query_table($model) r
