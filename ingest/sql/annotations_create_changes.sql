-- annotations_create_changes: the temp table annotation_changes, the valid rows of an annotations
-- file (the view parsed_rows, registered by the caller) that are new or differ from what is stored
-- under the same (name, service). Grain: one row per such row; existing_id is the stored
-- annotation's id (NULL for a new one).
CREATE OR REPLACE TEMP TABLE annotation_changes AS
SELECT p.*, a.id AS existing_id FROM parsed_rows p
LEFT JOIN annotations a ON a.name = p.name AND a.service IS NOT DISTINCT FROM p.service
WHERE p.reason IS NULL
  AND (a.id IS NULL OR a.starts_on <> p.starts_on
       OR a.description IS DISTINCT FROM p.description)
