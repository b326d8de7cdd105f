-- change_scope_fct_changes: the changes fct_lead_times and fct_change_stages read in a row-scoped
-- build (metrics.build): those whose rows it recomputes (build_scope_reached).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_changes AS
SELECT * FROM main.fct_changes
WHERE rowid IN (SELECT rowid FROM main.fct_changes
                WHERE change_id IN (SELECT change_id FROM build_scope.reached))
