-- list_rejects: the rejected records of every run (or of one), newest run first, for `dora rejects`.
-- Grain: one row per rejected record. $run_id NULL means every run; $limit caps the rows.
SELECT ingest_run_id, origin, file, line_no, reason, raw
FROM rejects
WHERE $run_id IS NULL OR ingest_run_id = $run_id
ORDER BY ingest_run_id DESC, file, line_no
LIMIT $limit
