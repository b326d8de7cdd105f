-- batch_scope_fct_changes: the changes fct_deployment_batches reads in a row-scoped build
-- (metrics.build): those the scoped links name (batch_scope_fct_deployment_changes).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_changes AS
SELECT * FROM main.fct_changes
WHERE rowid IN (SELECT rowid FROM main.fct_changes
                WHERE change_id IN (SELECT change_id FROM build_scope.fct_deployment_changes))
