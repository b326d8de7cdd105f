-- change_scope_stg_events: the staged reports fct_changes reads in a row-scoped build
-- (metrics.build): every change.merged report of the changes reported since the last build.
-- custom_data is left out (NULL): no model reads it, and fetching a few rows of a zstd column unpacks
-- whole blocks of it (0.4 s here at scale 1).
CREATE TABLE build_scope.stg_events AS
SELECT * REPLACE (NULL::JSON AS custom_data) FROM main.stg_events
WHERE kind = 'change_merged' AND subject_id IN (SELECT change_id FROM build_scope.changes)
