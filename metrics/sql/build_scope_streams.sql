-- build_scope_streams: the deployment streams (a service in an environment) with deployment events
-- staged since the last build, each with the moment from which a row-scoped build recomputes its
-- deployments (metrics.build): the earliest new event, or the first exposure of a deployment it
-- extends. A stream's deployments finishing before then keep their rows: none of their events is new,
-- and their predecessors are all older still. `scopable`: the rest of fct_deployments' rules cannot
-- reach beyond those deployments — the stream holds event-log deployments only (another origin's are
-- filtered by the event log's first deployment: eventlog_since), and its service names one repository
-- at most, named before this build if at all (a deployment naming none takes its service's: a new name
-- would change old rows). Grain: (service, environment).
CREATE TABLE build_scope.streams AS
WITH last_build AS (
    SELECT coalesce(max(last_run_id), -1) AS run_id FROM main.build_info
),
events AS (
    SELECT service, environment_group(environment, $production_environments) AS environment, deployment_id,
           occurred_at, origin, repository, ingest_run_id > (SELECT run_id FROM last_build) AS is_new
    FROM main.stg_events
    WHERE kind = 'deployment'
),
touched AS (
    SELECT service, environment, min(occurred_at) AS first_new FROM events WHERE is_new GROUP BY ALL
),
extended AS (  -- the existing deployments new events belong to: recomputed from their first exposure
    SELECT d.service, d.environment, min(d.exposed_at) AS exposed_at
    FROM main.fct_deployments d
    SEMI JOIN (SELECT DISTINCT service, environment, deployment_id FROM events WHERE is_new) n
      ON n.service = d.service AND n.environment = d.environment AND n.deployment_id = d.deployment_id
    GROUP BY ALL
),
services AS (
    SELECT service,
           count(DISTINCT repository) <= 1
           AND (count(*) FILTER (WHERE repository IS NOT NULL AND NOT is_new) > 0
                OR count(*) FILTER (WHERE repository IS NOT NULL AND is_new) = 0
                OR count(*) FILTER (WHERE NOT is_new) = 0)                      AS one_repository
    FROM events
    WHERE service IN (SELECT service FROM touched)
    GROUP BY service
),
streams AS (
    SELECT service, environment, bool_and(origin = 'eventlog') AS eventlog_only
    FROM events
    WHERE (service, environment) IN (SELECT service, environment FROM touched)
    GROUP BY ALL
)
SELECT t.service, t.environment, least(t.first_new, x.exposed_at) AS since,
       s.eventlog_only AND v.one_repository AS scopable
FROM touched t
JOIN streams s USING (service, environment)
JOIN services v USING (service)
LEFT JOIN extended x USING (service, environment)
