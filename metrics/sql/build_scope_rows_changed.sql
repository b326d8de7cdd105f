-- build_scope_rows_changed: the deployments whose row the rebuilt fact ($model, as in
-- build_scope_row_prints) added, altered (for a deployment: a later event, a new predecessor) or no
-- longer holds, against its prints from before. Grain: (model, deployment_key).
INSERT INTO build_scope.rows_changed
SELECT $model, coalesce(a.deployment_key, b.deployment_key)
FROM (SELECT deployment_key, hash(r) AS print FROM query_table($model) r) a
FULL JOIN (SELECT deployment_key, print FROM build_scope.row_prints WHERE model = $model) b
  ON b.deployment_key = a.deployment_key
WHERE a.print IS DISTINCT FROM b.print
