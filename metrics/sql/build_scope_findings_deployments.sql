-- build_scope_findings_deployments: the deployments whose dq_findings rows a row-scoped build recomputes
-- (metrics.build), by the columns those rows name them by. A deployment's findings read its own row,
-- its failure and whether any change is linked to it; so they can differ only for a deployment in
-- build_scope.rows_changed (its row or its failure changed, or its links to a change reported since,
-- before or after; any other link appears or goes only with a changed deployment). Those no longer
-- deployed are not here: build_scope_findings_scopable then has dq_findings rebuilt whole.
-- Grain: deployment_key.
CREATE TABLE build_scope.findings_deployments AS
SELECT deployment_key, service, environment, deployment_id
FROM main.fct_deployments
WHERE deployment_key IN (SELECT deployment_key FROM build_scope.rows_changed)
