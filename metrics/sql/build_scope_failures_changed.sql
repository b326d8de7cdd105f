-- build_scope_failures_changed: the deployments whose failure the rebuilt fct_failures added, altered or
-- no longer holds, against build_scope_failure_prints. Grain: deployment_key.
INSERT INTO build_scope.rows_changed
SELECT 'fct_failures', coalesce(a.deployment_key, b.deployment_key)
FROM (SELECT deployment_key, hash(r) AS print FROM main.fct_failures r) a
FULL JOIN (SELECT deployment_key, print FROM build_scope.row_prints WHERE model = 'fct_failures') b
  ON b.deployment_key = a.deployment_key
WHERE a.print IS DISTINCT FROM b.print
