-- change_scope_fct_deployment_changes: the links fct_lead_times reads in a row-scoped build
-- (metrics.build): every link of the changes whose rows it recomputes (build_scope_reached).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployment_changes AS
SELECT * FROM main.fct_deployment_changes
WHERE rowid IN (SELECT rowid FROM main.fct_deployment_changes
                WHERE change_id IN (SELECT change_id FROM build_scope.reached))
