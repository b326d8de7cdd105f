-- insert_rejects: the rejected rows of one parsed chunk or file (the view parsed_rows, registered by
-- the caller: file, line_no, raw, reason — NULL for a valid row) into rejects.
-- Grain: one row per rejected line. A line rejected by an earlier run of the same origin is already
-- kept: re-running a file adds nothing. Parameters: $run_id, $origin (the source, e.g. 'eventlog').
INSERT INTO rejects (ingest_run_id, origin, file, line_no, raw, reason)
SELECT $run_id, $origin, p.file, p.line_no, p.raw, p.reason FROM parsed_rows p
WHERE p.reason IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM rejects r WHERE r.origin = $origin AND r.file = p.file
                  AND r.line_no = p.line_no AND r.raw = p.raw)
