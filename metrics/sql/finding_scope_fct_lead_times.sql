-- finding_scope_fct_lead_times: the rows of fct_lead_times that dq_findings reads in a row-scoped build (metrics.build):
-- those of the changes whose findings it recomputes (build_scope_findings_changes).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_lead_times AS
SELECT * FROM main.fct_lead_times
WHERE rowid IN (SELECT rowid FROM main.fct_lead_times
                WHERE change_id IN (SELECT change_id FROM build_scope.findings_changes))
