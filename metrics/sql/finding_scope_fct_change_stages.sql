-- finding_scope_fct_change_stages: the rows of fct_change_stages that dq_findings reads in a row-scoped build (metrics.build):
-- those of the changes whose findings it recomputes (build_scope_findings_changes).
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_change_stages AS
SELECT * FROM main.fct_change_stages
WHERE rowid IN (SELECT rowid FROM main.fct_change_stages
                WHERE change_id IN (SELECT change_id FROM build_scope.findings_changes))
