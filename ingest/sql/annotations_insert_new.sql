-- annotations_insert_new: the annotations a file adds (annotation_changes without an existing_id),
-- ids given in date order. Grain: one row per new annotation. The result is the number added.
-- Parameters: $created_at, $run_id.
INSERT INTO annotations (name, starts_on, service, description, created_at, ingest_run_id)
SELECT name, starts_on, service, description, $created_at, $run_id FROM annotation_changes
WHERE existing_id IS NULL ORDER BY starts_on, line_no
