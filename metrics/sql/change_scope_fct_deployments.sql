-- change_scope_fct_deployments: the deployments fct_lead_times reads in a row-scoped build
-- (metrics.build): those the scoped links name. Their order of finish among themselves is the one
-- among every deployment, which is all fct_lead_times asks of it.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployments AS
SELECT * FROM main.fct_deployments
WHERE rowid IN (SELECT rowid FROM main.fct_deployments
                WHERE deployment_key IN (SELECT deployment_key FROM build_scope.fct_deployment_changes))
