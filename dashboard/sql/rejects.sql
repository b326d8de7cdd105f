-- The newest records rejected at ingest, with the reason and the start of the raw text.
-- Grain: one row per rejected record; $limit rows.
SELECT r.ingest_run_id, r.origin, r.file, r.line_no, r.reason,
       left(r.raw, 300) AS raw  -- enough to recognise the line; `dora rejects` shows it whole
FROM rejects r
ORDER BY r.ingest_run_id DESC, r.file, r.line_no
LIMIT $limit
