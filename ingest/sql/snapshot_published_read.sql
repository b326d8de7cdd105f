-- snapshot_published_read: what the read snapshot stands for, and whether that is still everything:
-- no run recorded and no build made since. Grain: one row, none before the first publish (or in a
-- warehouse from before this table).
SELECT p.copied_run_id, p.snapshot_mtime_ns, p.snapshot_size,
       p.current_run_id = (SELECT coalesce(max(run_id), 0) FROM ingest_runs)
           AND p.built_at IS NOT DISTINCT FROM (SELECT max(built_at) FROM build_info) AS stands_for_all
FROM snapshot_published p
