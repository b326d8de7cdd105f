-- finding_scope_fct_deployment_changes: the links dq_findings reads in a row-scoped build
-- (metrics.build): every link of the changes and of the deployments whose findings it recomputes
-- (build_scope_findings_changes, build_scope_findings_deployments).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployment_changes AS
SELECT * FROM main.fct_deployment_changes
WHERE rowid IN (SELECT rowid FROM main.fct_deployment_changes
                WHERE change_id IN (SELECT change_id FROM build_scope.findings_changes)
                   OR deployment_key IN (SELECT deployment_key FROM build_scope.findings_deployments))
