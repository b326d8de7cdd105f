-- annotations_delete: remove the annotation with id $id. Grain: one row.
DELETE FROM annotations WHERE id = $id
