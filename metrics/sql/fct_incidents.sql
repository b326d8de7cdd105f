-- fct_incidents: one row per incident, with when it started and ended and the deployment it is
-- attributed to. Grain: incident_id (the events' subject.id).
-- started_at: the earliest detected/reported event; resolved_at: the earliest resolved event.
-- Attribution (contract §2), in order: an explicit caused_by_deployment; else caused_by_commit, the
-- first deployment of that commit (of the incident's service, if named) finished at or before the
-- start; an explicit link that matches nothing leaves the incident unattributed. Without a link:
-- the latest deployment of the incident's service in its environment finished at or before the
-- start, if no more than $attribution_window_hours earlier.
CREATE OR REPLACE TABLE fct_incidents AS
WITH events AS (
    SELECT *,
        CASE WHEN list_contains($production_environments, lower(environment)) THEN 'production'
             ELSE lower(environment) END AS environment_group
    FROM stg_events
    WHERE kind IN ('incident_started', 'incident_resolved')
),
incidents AS (
    SELECT
        subject_id                                                                   AS incident_id,
        min(occurred_at) FILTER (WHERE kind = 'incident_started')                    AS started_at,
        min(occurred_at) FILTER (WHERE kind = 'incident_resolved')                   AS resolved_at,
        -- the start event's facts win over the resolution's
        arg_min(service, (kind <> 'incident_started', occurred_at)) FILTER (WHERE service IS NOT NULL) AS service,
        arg_min(environment_group, (kind <> 'incident_started', occurred_at)) FILTER (WHERE environment IS NOT NULL) AS environment,
        arg_min(severity, occurred_at) FILTER (WHERE severity IS NOT NULL)           AS severity,
        arg_min(caused_by_deployment, occurred_at) FILTER (WHERE caused_by_deployment IS NOT NULL) AS caused_by_deployment,
        arg_min(caused_by_commit, occurred_at) FILTER (WHERE caused_by_commit IS NOT NULL) AS caused_by_commit
    FROM events
    GROUP BY subject_id
),
by_deployment AS (
    SELECT i.incident_id, d.deployment_key
    FROM incidents i
    JOIN fct_deployments d
      ON d.deployment_id = i.caused_by_deployment AND d.environment = i.environment
    QUALIFY row_number() OVER (PARTITION BY i.incident_id
                               ORDER BY (d.service = i.service) DESC NULLS LAST, d.finished_at DESC) = 1
),
by_commit AS (
    SELECT i.incident_id, d.deployment_key
    FROM incidents i
    JOIN fct_deployments d
      ON d.commit_sha = i.caused_by_commit AND d.environment = i.environment
     AND (i.service IS NULL OR d.service = i.service)
     AND d.finished_at <= i.started_at
    WHERE i.caused_by_deployment IS NULL
    QUALIFY row_number() OVER (PARTITION BY i.incident_id ORDER BY d.finished_at, d.deployment_key) = 1
),
latest_before AS (
    SELECT i.incident_id, d.deployment_key, d.finished_at
    FROM incidents i
    ASOF JOIN fct_deployments d
      ON d.service = i.service AND d.environment = i.environment AND i.started_at >= d.finished_at
    WHERE i.caused_by_deployment IS NULL AND i.caused_by_commit IS NULL AND i.started_at IS NOT NULL
),
attributed AS (
    SELECT i.*,
        CASE
            WHEN i.caused_by_deployment IS NOT NULL THEN bd.deployment_key
            WHEN i.caused_by_commit IS NOT NULL THEN bc.deployment_key
            WHEN lb.finished_at >= i.started_at - to_hours($attribution_window_hours::BIGINT) THEN lb.deployment_key
        END AS deployment_key,
        CASE
            WHEN i.caused_by_deployment IS NOT NULL AND bd.deployment_key IS NOT NULL THEN 'caused_by_deployment'
            WHEN i.caused_by_deployment IS NOT NULL THEN 'caused_by_deployment_unmatched'
            WHEN i.caused_by_commit IS NOT NULL AND bc.deployment_key IS NOT NULL THEN 'caused_by_commit'
            WHEN i.caused_by_commit IS NOT NULL THEN 'caused_by_commit_unmatched'
            WHEN i.started_at IS NULL THEN 'never_started'
            WHEN i.service IS NULL THEN 'no_service'
            WHEN lb.deployment_key IS NULL THEN 'no_deployment_before'
            WHEN lb.finished_at >= i.started_at - to_hours($attribution_window_hours::BIGINT) THEN 'latest_deployment_in_window'
            ELSE 'outside_window'
        END AS attribution_rule
    FROM incidents i
    LEFT JOIN by_deployment bd USING (incident_id)
    LEFT JOIN by_commit bc USING (incident_id)
    LEFT JOIN latest_before lb USING (incident_id)
)
SELECT
    incident_id, service, environment, severity, started_at, resolved_at,
    (epoch(resolved_at) - epoch(started_at)) / 60.0                         AS recovery_minutes,
    caused_by_deployment, caused_by_commit, deployment_key, attribution_rule
FROM attributed;
