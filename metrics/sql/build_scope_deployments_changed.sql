-- build_scope_deployments_changed: the deployments whose row the rebuilt fct_deployments added, altered
-- (a later event, a new predecessor) or no longer holds, against build_scope_deployment_prints.
-- Grain: deployment_key.
INSERT INTO build_scope.rows_changed
SELECT 'fct_deployments', coalesce(a.deployment_key, b.deployment_key)
FROM (SELECT deployment_key, hash(r) AS print FROM main.fct_deployments r) a
FULL JOIN (SELECT deployment_key, print FROM build_scope.row_prints WHERE model = 'fct_deployments') b
  ON b.deployment_key = a.deployment_key
WHERE a.print IS DISTINCT FROM b.print
