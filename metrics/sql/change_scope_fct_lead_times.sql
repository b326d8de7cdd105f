-- change_scope_fct_lead_times: the lead times fct_change_stages reads in a row-scoped build
-- (metrics.build): those of the changes whose rows it recomputes (build_scope_reached), as
-- fct_lead_times' scoped run left them.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_lead_times AS
SELECT * FROM main.fct_lead_times
WHERE rowid IN (SELECT rowid FROM main.fct_lead_times
                WHERE change_id IN (SELECT change_id FROM build_scope.reached))
