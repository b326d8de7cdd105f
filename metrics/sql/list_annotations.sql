-- list_annotations: annotations in date order (organisation-wide ones first on a day, then by name).
-- $every_service: all of them; else those of $service and the organisation's (service NULL).
-- Grain: one row per annotation (id, name, starts_on, service, description, created_at).
SELECT id, name, starts_on, service, description, created_at FROM annotations
WHERE $every_service OR service IS NULL OR service = $service
ORDER BY starts_on, service NULLS FIRST, name
