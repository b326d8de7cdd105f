-- build_scope_deployments: the deployments whose links a row-scoped build recomputes (metrics.build):
-- those whose row the rebuilt fct_deployments added, altered or no longer holds (build_scope.rows_changed).
-- A deployment's links by any rule read its own row (its predecessor's finish is in it), so an
-- unchanged deployment keeps its links but for changes reported since. Grain: deployment_key.
CREATE TABLE build_scope.deployments AS
SELECT DISTINCT deployment_key FROM build_scope.rows_changed WHERE model = 'fct_deployments'
