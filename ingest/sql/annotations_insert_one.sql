-- annotations_insert_one: one annotation added by hand (`dora annotate add`). Grain: one row; the
-- result is its new id. Parameters: $name, $starts_on, $service (NULL: the whole organisation),
-- $description, $created_at, $run_id.
INSERT INTO annotations (name, starts_on, service, description, created_at, ingest_run_id)
VALUES ($name, $starts_on, $service, $description, $created_at, $run_id) RETURNING id
