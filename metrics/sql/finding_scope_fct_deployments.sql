-- finding_scope_fct_deployments: the deployments dq_findings reads in a row-scoped build
-- (metrics.build): those whose findings it recomputes (build_scope_findings_deployments), and those
-- linked to a change whose findings it recomputes (finding_scope_fct_deployment_changes), for the
-- change_unknown rows that name them.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_deployments AS
SELECT * FROM main.fct_deployments
WHERE rowid IN (SELECT rowid FROM main.fct_deployments
                WHERE deployment_key IN (SELECT deployment_key FROM build_scope.findings_deployments)
                   OR deployment_key IN (SELECT deployment_key FROM build_scope.fct_deployment_changes))
