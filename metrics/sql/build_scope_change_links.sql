-- build_scope_change_links: the deployments linked to a change reported since the last build
-- (build_scope.changes), noted before and again after a row-scoped build rebuilds fct_deployment_changes:
-- a link of such a change may appear or go. Grain: deployment_key (repeated across the two notes).
INSERT INTO build_scope.rows_changed
SELECT DISTINCT 'fct_deployment_changes', deployment_key
FROM main.fct_deployment_changes
WHERE change_id IN (SELECT change_id FROM build_scope.changes)
