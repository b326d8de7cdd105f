-- build_scope_reached: the changes whose lead times and stages a row-scoped build recomputes
-- (metrics.build): a change's rows there are computed from its own row, its links and the deployments
-- they name, so they can differ only for
--   the changes reported since (build_scope_changes);
--   the changes linked now to a deployment whose row changed (build_scope_rows_changed): a
--     link appears or goes only where its deployment or its change changed (fct_deployment_changes'
--     rules read the deployment's row, its predecessor's finish, which is in its row, and the
--     change's row), so every new link is one of these or of the changes above;
--   the changes whose first delivery was such a deployment (the lead times before this build): it
--     may have gone, moved, or stopped shipping them. A link gone from a deployment that was not a
--     change's first delivery in its environment changes none of its rows.
-- Grain: change_id.
CREATE TABLE build_scope.reached AS
SELECT change_id FROM build_scope.changes
UNION
SELECT change_id FROM main.fct_deployment_changes
WHERE deployment_key IN (SELECT deployment_key FROM build_scope.rows_changed WHERE model = 'fct_deployments')
UNION
SELECT change_id FROM main.fct_lead_times
WHERE deployment_key IN (SELECT deployment_key FROM build_scope.rows_changed WHERE model = 'fct_deployments')
