-- batch_scope_fct_deployment_changes: the links fct_deployment_batches reads in a row-scoped build
-- (metrics.build): those of the deployments whose rows it recomputes (build_scope_batches).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployment_changes AS
SELECT * FROM main.fct_deployment_changes
WHERE rowid IN (SELECT rowid FROM main.fct_deployment_changes
                WHERE deployment_key IN (SELECT deployment_key FROM build_scope.batches))
