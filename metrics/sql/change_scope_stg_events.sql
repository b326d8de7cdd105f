-- change_scope_stg_events: the staged reports fct_changes reads in a row-scoped build
-- (metrics.build): every change.merged report of the changes reported since the last build.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.stg_events AS
SELECT * FROM main.stg_events
WHERE rowid IN (SELECT rowid FROM main.stg_events
                WHERE kind = 'change_merged' AND subject_id IN (SELECT change_id FROM build_scope.changes))
