-- list_pipeline_services: the services named by any pipeline run, by name.
-- Grain: one row per service ('all', the organisation, left out).
SELECT DISTINCT service FROM metric_pipeline WHERE service <> 'all' ORDER BY 1
