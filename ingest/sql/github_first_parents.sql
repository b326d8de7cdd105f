-- github_first_parents: the production branch's history read for $source, as the linker needs it.
-- Grain: one row per commit: its SHA and its first parent's (NULL for a root, or a parent not read).
SELECT json_extract_string(payload, '$.oid')                 AS sha,
       json_extract_string(payload, '$.parents.nodes[0].oid') AS first_parent_sha
FROM raw_events
WHERE source = $source AND event_type = 'github.commit'
