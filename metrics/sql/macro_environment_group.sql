-- environment_group(environment, production_environments): the environment as the facts name it:
-- 'production' for every configured production name (case-insensitive), else the lower-cased name,
-- so `prod` and `Production` are one environment. Python's metrics.filters.environment_group is the
-- same rule for the names readers ask for.
CREATE OR REPLACE MACRO environment_group(environment, production_environments) AS
    CASE WHEN list_contains(production_environments, lower(environment)) THEN 'production'
         ELSE lower(environment) END
