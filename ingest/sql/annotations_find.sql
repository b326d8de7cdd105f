-- annotations_find: the annotations a reference names: the one with id $id, or every service's
-- named $name (the other parameter is NULL). Grain: one row per annotation, in date order.
SELECT * FROM annotations
WHERE id = $id OR name = $name
ORDER BY starts_on, id
