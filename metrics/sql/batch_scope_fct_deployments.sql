-- batch_scope_fct_deployments: the deployments fct_deployment_batches reads in a row-scoped build
-- (metrics.build): those whose rows it recomputes (build_scope_batches), whole weeks of them.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployments AS
SELECT * FROM main.fct_deployments
WHERE rowid IN (SELECT rowid FROM main.fct_deployments
                WHERE deployment_key IN (SELECT deployment_key FROM build_scope.batches))
