-- snapshot_published_record: what the read snapshot now stands for: every run so far and the latest
-- build, its data copied up to run $copied_run_id (NULL: copied now, so up to the latest run; later
-- runs changed nothing readers see but their own ingest_runs rows); the file's $mtime_ns and $size
-- identify it. Run after snapshot_published_clear: the table holds one row.
WITH latest AS (SELECT coalesce(max(run_id), 0) AS run_id FROM ingest_runs)
INSERT INTO snapshot_published
SELECT coalesce($copied_run_id::BIGINT, latest.run_id), latest.run_id,
       (SELECT max(built_at) FROM build_info),
       $mtime_ns, $size, current_timestamp
FROM latest
