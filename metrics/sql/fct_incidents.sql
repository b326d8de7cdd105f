-- fct_incidents: one row per incident, with when it started and ended and the deployment it is
-- attributed to. Grain: incident_id (the events' subject.id).
-- started_at: the earliest detected/reported event; resolved_at: the earliest resolved event.
-- Attribution (contract §2), in order: an explicit caused_by_deployment; else caused_by_commit, the
-- first deployment of that commit (of the incident's service, if named) finished at or before the
-- start; an explicit link that matches nothing leaves the incident unattributed. Without a link:
-- the latest deployment of the incident's service in its environment finished at or before the
-- start, if no more than $attribution_window_hours earlier.
-- caused_by_commit is what the source read (a GitHub issue's "Caused by: #12"): a commit SHA, an
-- abbreviation of at least 7 hex digits, or a change id (`owner/name#12`, meaning its merge commit).
-- A commit some deployment shipped (its shipped_commits, known from a commit graph) stands for the
-- commit that deployment deployed: the first such deployment (of the service, in the environment,
-- finished at or before the start; from any source, also one fct_deployments leaves out because
-- another source reports it) — so the incident goes to the deployment that shipped the culprit, or,
-- when the event log reports the service's deployments, to the event log's deployment of that commit.
CREATE OR REPLACE TABLE fct_incidents AS
WITH events AS (
    SELECT *, environment_group(environment, $production_environments) AS environment_group
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
named_commits AS (
    SELECT i.incident_id, i.service, i.environment, i.started_at,
           coalesce(c.commit_sha, i.caused_by_commit) AS named_commit
    FROM incidents i
    LEFT JOIN fct_changes c ON c.change_id = i.caused_by_commit
    WHERE i.caused_by_deployment IS NULL AND i.caused_by_commit IS NOT NULL
),
shipped AS (
    SELECT deployment_id, service, occurred_at, commit_sha AS deployed_commit,
        environment_group(environment, $production_environments) AS environment,
        unnest(shipped_commits) AS sha
    FROM stg_events
    WHERE kind = 'deployment' AND shipped_commits IS NOT NULL
),
shipped_by AS (
    SELECT n.incident_id, arg_min(s.deployed_commit, (s.occurred_at, s.deployment_id)) AS deployed_commit
    FROM named_commits n
    JOIN shipped s
      -- equal first 7 digits: a hash join, then the prefix check on the few candidates
      ON left(s.sha, 7) = left(n.named_commit, 7) AND starts_with(s.sha, n.named_commit)
     AND s.environment = n.environment AND s.occurred_at <= n.started_at
     AND (n.service IS NULL OR s.service = n.service)
    WHERE regexp_matches(n.named_commit, '^[0-9a-f]{7,40}$')
    GROUP BY n.incident_id
),
by_commit AS (
    SELECT n.incident_id, d.deployment_key
    FROM named_commits n
    LEFT JOIN shipped_by s USING (incident_id)
    JOIN fct_deployments d
      ON d.commit_sha = coalesce(s.deployed_commit, n.named_commit) AND d.environment = n.environment
     AND (n.service IS NULL OR d.service = n.service)
     AND d.finished_at <= n.started_at
    QUALIFY row_number() OVER (PARTITION BY n.incident_id ORDER BY d.finished_at, d.deployment_key) = 1
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
