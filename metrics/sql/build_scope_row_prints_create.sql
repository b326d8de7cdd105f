-- build_scope_row_prints_create: the rows of the facts a row-scoped build rebuilds whole, as the last
-- build left them, one hash of every column per deployment (metrics.build ROW_NOTES fills it before
-- each is rebuilt). Grain: (model, deployment_key).
CREATE TABLE build_scope.row_prints (model VARCHAR, deployment_key BIGINT, print UBIGINT)
