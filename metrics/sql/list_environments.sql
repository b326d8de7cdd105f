-- list_environments: the environments with any deployment, change or incident, by name — what an
-- empty scope (an unknown or misspelt --environment) names instead. Grain: one row per environment.
SELECT DISTINCT environment FROM metric_periods WHERE service = 'all' ORDER BY 1
