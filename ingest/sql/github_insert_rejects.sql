-- github_insert_rejects: a page's refused payloads (the registered table gh_rejects: raw, reason)
-- into rejects. Grain: one row per distinct (raw, reason), file $reject_file
-- (`github:owner/name/<stream>`), no line number. A bad payload seen again (the look-back window
-- reads it again) is already kept, so it is not added twice.
INSERT INTO rejects (ingest_run_id, origin, file, line_no, raw, reason)
SELECT DISTINCT $run_id, $origin, $reject_file, NULL, g.raw, g.reason FROM gh_rejects g
WHERE NOT EXISTS (SELECT 1 FROM rejects r WHERE r.file = $reject_file AND r.raw = g.raw)
