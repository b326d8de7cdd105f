-- build_scope_changes: the changes reported (change.merged) since the last build, whose fct_changes
-- rows a row-scoped build recomputes (metrics.build). Grain: change_id.
CREATE TABLE build_scope.changes AS
SELECT DISTINCT subject_id AS change_id
FROM main.stg_events
WHERE kind = 'change_merged'
  AND ingest_run_id > (SELECT coalesce(max(last_run_id), -1) FROM main.build_info)
