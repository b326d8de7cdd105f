-- annotations_find_key: the annotation stored under (name, service), if any; service NULL is the
-- whole organisation's. Grain: at most one row: id, starts_on. Parameters: $name, $service.
SELECT id, starts_on FROM annotations WHERE name = $name AND service IS NOT DISTINCT FROM $service
