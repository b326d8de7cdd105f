-- build_scope_batches: the deployments whose fct_deployment_batches rows a row-scoped build recomputes
-- (metrics.build). A deployment's row there reads its own row, its failure, its links and their changes'
-- sizes, and how many deployments its service made in its environment that week; so it can differ only
-- for a deployment in build_scope.rows_changed — its row or its failure changed, or it is linked to a
-- change reported since, before or after (any other link appears or goes only with a changed
-- deployment: build_scope_reached.sql) — and for every deployment sharing a week of its service and
-- environment with one of those, before ($timezone; by its batch row as the last build left it) or
-- after. Whole weeks, so that the model run on these deployments alone counts each week whole; the
-- keys no longer deployed too, for their rows to go. Grain: deployment_key.
CREATE TABLE build_scope.batches AS
WITH touched AS (
    SELECT DISTINCT deployment_key FROM build_scope.rows_changed
),
weeks AS (
    SELECT DISTINCT service, environment, period_start_of(local_day(finished_at, $timezone), 'week') AS week
    FROM (SELECT service, environment, finished_at FROM main.fct_deployments
          WHERE deployment_key IN (SELECT deployment_key FROM touched)
          UNION ALL
          SELECT service, environment, finished_at FROM main.fct_deployment_batches
          WHERE deployment_key IN (SELECT deployment_key FROM touched))
)
SELECT d.deployment_key
FROM main.fct_deployments d
SEMI JOIN weeks w
  ON w.service IS NOT DISTINCT FROM d.service AND w.environment = d.environment
 AND w.week = period_start_of(local_day(d.finished_at, $timezone), 'week')
UNION
SELECT deployment_key FROM touched
