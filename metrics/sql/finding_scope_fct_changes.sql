-- finding_scope_fct_changes: the rows of fct_changes that dq_findings reads in a row-scoped build (metrics.build):
-- those of the changes whose findings it recomputes (build_scope_findings_changes).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_changes AS
SELECT * FROM main.fct_changes
WHERE rowid IN (SELECT rowid FROM main.fct_changes
                WHERE change_id IN (SELECT change_id FROM build_scope.findings_changes))
