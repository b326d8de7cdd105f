-- build_scope_rows_changed_create: the deployments a row-scoped build found changed in a fact it
-- rebuilt whole (metrics.build ROW_NOTES fills it): their row added, altered or gone, or their links to
-- a change reported since (before or after). Grain: (model, deployment_key).
CREATE TABLE build_scope.rows_changed (model VARCHAR, deployment_key BIGINT)
