-- annotations_update_changed: stored annotations that a file moves to a new date or description
-- (annotation_changes with an existing_id); the id stays. Grain: one row per changed annotation.
-- The result is the number changed. Parameter: $run_id.
UPDATE annotations a SET starts_on = c.starts_on, description = c.description, ingest_run_id = $run_id
FROM annotation_changes c WHERE a.id = c.existing_id
