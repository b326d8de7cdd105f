-- fct_deployments: one row per deployment, in every environment.
-- Grain: (service, environment, deployment_id). Events sharing a deployment_id are one deployment (a
-- progressive rollout: canary at 5%, then 25/50/100%): exposed from the earliest of them, finished
-- at the latest. A rollout stopped before 100% is still a deployment, finished at its last event.
-- traffic_percent is the share of traffic the deployment serves after an event; NULL means 100.
-- `environment` is 'production' for every configured production name (case-insensitive), else the
-- lower-cased name, so `prod` and `Production` are one environment.
-- Rollbacks are not deployments (see fct_rollbacks).
CREATE OR REPLACE TABLE fct_deployments AS
WITH all_events AS (
    SELECT origin, service, environment, deployment_id, occurred_at, started_at, commit_sha, repository,
        change_ids, shipped_commits, unplanned, coalesce(traffic_percent, 100) AS traffic_percent,
        environment_group(environment, $production_environments) AS environment_group
    FROM stg_events
    WHERE kind = 'deployment'
),
-- Two sources about one service (docs/github.md): the pipeline's own event log is authoritative.
-- From a service's first event-log deployment in an environment on, its deployments from other
-- origins (GitHub) are left out; an earlier one of a commit the event log also deployed is the same
-- deployment, left out too. A deploy seen by both sources is counted once.
eventlog_since AS (
    SELECT service, environment_group, min(occurred_at) AS since_at
    FROM all_events WHERE origin = 'eventlog'
    GROUP BY service, environment_group
),
events AS (
    SELECT * FROM all_events WHERE origin = 'eventlog'
    UNION ALL
    SELECT e.* FROM all_events e
    LEFT JOIN eventlog_since s
      ON s.service IS NOT DISTINCT FROM e.service AND s.environment_group = e.environment_group
    WHERE e.origin <> 'eventlog'
      AND (s.since_at IS NULL
           OR (e.occurred_at < s.since_at
               AND NOT EXISTS (SELECT 1 FROM all_events x
                               WHERE x.origin = 'eventlog' AND x.service IS NOT DISTINCT FROM e.service
                                 AND x.environment_group = e.environment_group AND x.commit_sha = e.commit_sha)))
),
-- Speed: almost every deployment is one event, and then that event is the deployment. Only the
-- deployments of several events go through the aggregates below, which cost many times more.
repeated AS (
    SELECT service, environment_group, deployment_id
    FROM events
    GROUP BY service, environment_group, deployment_id
    HAVING count(*) > 1
),
deployments AS (
    SELECT
        service,
        environment_group                                                   AS environment,
        deployment_id,
        occurred_at                                                         AS exposed_at,
        occurred_at                                                         AS finished_at,
        traffic_percent                                                     AS max_traffic_percent,
        CASE WHEN traffic_percent >= 100 THEN occurred_at END               AS full_traffic_at,
        started_at,
        commit_sha,
        repository                                                          AS declared_repository,
        change_ids,
        shipped_commits,
        coalesce(unplanned, false)                                          AS unplanned,
        [environment]                                                       AS environment_names,
        [origin]                                                            AS origins,
        1::BIGINT                                                           AS event_count
    FROM events e
    WHERE NOT EXISTS (SELECT 1 FROM repeated r
                      WHERE r.service IS NOT DISTINCT FROM e.service AND r.environment_group = e.environment_group
                        AND r.deployment_id IS NOT DISTINCT FROM e.deployment_id)
    UNION ALL
    SELECT
        service,
        environment_group                                                   AS environment,
        deployment_id,
        min(occurred_at)                                                    AS exposed_at,
        max(occurred_at)                                                    AS finished_at,
        max(traffic_percent)                                                AS max_traffic_percent,
        min(occurred_at) FILTER (WHERE traffic_percent >= 100)              AS full_traffic_at,
        min(started_at)                                                     AS started_at,
        arg_max(commit_sha, occurred_at) FILTER (WHERE commit_sha IS NOT NULL) AS commit_sha,
        arg_max(repository, occurred_at) FILTER (WHERE repository IS NOT NULL) AS declared_repository,
        -- an explicit list of changes is taken as given (the latest event's list if several)
        arg_max(change_ids, occurred_at) FILTER (WHERE change_ids IS NOT NULL) AS change_ids,
        arg_max(shipped_commits, occurred_at) FILTER (WHERE shipped_commits IS NOT NULL) AS shipped_commits,
        coalesce(bool_or(unplanned), false)                                 AS unplanned,
        list(DISTINCT environment ORDER BY environment)                     AS environment_names,
        list(DISTINCT origin ORDER BY origin)                               AS origins,
        count(*)                                                            AS event_count
    FROM events e
    WHERE EXISTS (SELECT 1 FROM repeated r
                  WHERE r.service IS NOT DISTINCT FROM e.service AND r.environment_group = e.environment_group
                    AND r.deployment_id IS NOT DISTINCT FROM e.deployment_id)
    GROUP BY service, environment_group, deployment_id
),
-- a deployment that names no repository uses the one its service's other deployments name
service_repositories AS (
    SELECT service, max(declared_repository) AS service_repository FROM deployments GROUP BY service
)
SELECT
    -- a surrogate key from the deployment's own identity, never from other rows: a new deployment
    -- leaves every other one's key (and the tables holding it) unchanged, so a build can replace only
    -- the rows its new events reach. hash() is DuckDB's, stable within one version (its version is in
    -- the build's fingerprint: another version rebuilds everything); 63 bits, so it is a BIGINT.
    -- Not an order: the first of several deployments is found by (finished_at, service, deployment_id).
    (hash(d.service, environment, deployment_id) >> 1)::BIGINT              AS deployment_key,
    d.service,
    environment,
    deployment_id,
    exposed_at,                    -- its earliest event: users saw it from then on
    finished_at,                   -- its latest event
    max_traffic_percent,           -- the highest traffic share it served (NULL traffic counts as 100)
    full_traffic_at,               -- when it first served 100% of traffic; NULL if it never did
    full_traffic_at IS NOT NULL                                             AS reached_full_traffic,
    started_at,
    commit_sha,
    coalesce(declared_repository, s.service_repository)                     AS repository,
    change_ids,
    shipped_commits,
    unplanned,
    environment_names,
    origins,
    event_count,
    lag(finished_at) OVER w                                                 AS previous_finished_at,
    lag(deployment_id) OVER w                                               AS previous_deployment_id
FROM deployments d
LEFT JOIN service_repositories s ON s.service IS NOT DISTINCT FROM d.service
WINDOW w AS (PARTITION BY d.service, environment ORDER BY finished_at, deployment_id);
