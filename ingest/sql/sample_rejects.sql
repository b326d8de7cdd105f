-- sample_rejects: the first rejects of one parsed chunk or file (the view parsed_rows, registered by
-- the caller), listed at the end of a run. Grain: one row per rejected line, at most $limit, in line
-- order.
SELECT file, line_no, reason FROM parsed_rows
WHERE reason IS NOT NULL
ORDER BY line_no
LIMIT $limit
