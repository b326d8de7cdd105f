-- build_changes_added_only: whether the change.merged reports the last build read are all still
-- staged as it read them — the rows staged by runs up to that build number what it recorded
-- (re-staging deletes them and stages them again under a later run) — so that the changes whose rows
-- can differ are told by the reports staged since (metrics.build, row-scoped). Grain: one row.
SELECT count(*) FILTER (WHERE ingest_run_id <= (SELECT coalesce(max(last_run_id), -1) FROM build_info))
       = (SELECT coalesce(sum(staged), 0) FROM build_inputs WHERE kind = 'change_merged') AS added_only
FROM stg_events
WHERE kind = 'change_merged'
