-- fct_deployments: one row per deployment, in every environment.
-- Grain: (service, environment, deployment_id). Events sharing a deployment_id are one deployment,
-- finishing at the latest of them. `environment` is 'production' for every configured production
-- name (case-insensitive), else the lower-cased name, so `prod` and `Production` are one environment.
-- Rollbacks are not deployments (see fct_rollbacks).
CREATE OR REPLACE TABLE fct_deployments AS
WITH all_events AS (
    SELECT *,
        CASE WHEN list_contains($production_environments, lower(environment)) THEN 'production'
             ELSE lower(environment) END AS environment_group
    FROM stg_events
    WHERE kind = 'deployment'
),
-- Two sources about one service (docs/github.md): the pipeline's own event log is authoritative.
-- From a service's first event-log deployment in an environment on, its deployments from other
-- origins (GitHub) are left out; an earlier one of a commit the event log also deployed is the same
-- deployment, left out too. A deploy seen by both sources is counted once.
eventlog_streams AS (
    SELECT service, environment_group, min(occurred_at) AS since_at, list(DISTINCT commit_sha) AS commits
    FROM all_events WHERE origin = 'eventlog'
    GROUP BY service, environment_group
),
events AS (
    SELECT e.* FROM all_events e
    LEFT JOIN eventlog_streams s
      ON s.service IS NOT DISTINCT FROM e.service AND s.environment_group = e.environment_group
    WHERE e.origin = 'eventlog' OR s.since_at IS NULL
       OR (e.occurred_at < s.since_at AND NOT coalesce(list_contains(s.commits, e.commit_sha), false))
),
deployments AS (
    SELECT
        service,
        environment_group                                                   AS environment,
        deployment_id,
        max(occurred_at)                                                    AS finished_at,
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
    FROM events
    GROUP BY service, environment_group, deployment_id
)
SELECT
    -- a stable surrogate key within one build, in finish order
    row_number() OVER (ORDER BY finished_at, service, environment, deployment_id) AS deployment_key,
    service,
    environment,
    deployment_id,
    finished_at,
    started_at,
    commit_sha,
    -- a deployment that names no repository uses the one its service's other deployments name
    coalesce(declared_repository,
             max(declared_repository) OVER (PARTITION BY service))          AS repository,
    change_ids,
    shipped_commits,
    unplanned,
    environment_names,
    origins,
    event_count,
    lag(finished_at) OVER w                                                 AS previous_finished_at,
    lag(deployment_id) OVER w                                               AS previous_deployment_id
FROM deployments
WINDOW w AS (PARTITION BY service, environment ORDER BY finished_at, deployment_id);
