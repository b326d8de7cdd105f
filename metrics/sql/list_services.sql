-- list_services: the services with any deployment, change or incident in $environment, by name.
-- Grain: one row per service ('all', the organisation, left out).
SELECT DISTINCT service FROM metric_periods WHERE environment = $environment AND service <> 'all' ORDER BY 1
