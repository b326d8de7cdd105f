-- build_scope_findings_changes: the changes whose dq_findings rows a row-scoped build recomputes
-- (metrics.build). A change's findings read its own rows in fct_changes, fct_lead_times and
-- fct_change_stages, and the deployments whose explicit lists name it (change_unknown); so they can
-- differ only for
--   the changes those facts recomputed (build_scope_reached: a change linked now to a deployment whose
--     row changed is among them, so a list naming it anew or a listing deployment moved is too);
--   the changes found unknown by the last build: a deployment's latest list may no longer name one.
-- Grain: change_id.
CREATE TABLE build_scope.findings_changes AS
SELECT change_id FROM build_scope.reached
UNION
SELECT entity_id FROM main.dq_findings WHERE finding = 'change_unknown'
