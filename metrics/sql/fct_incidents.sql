-- fct_incidents: one row per incident, with when it started and ended and the deployment it is
-- attributed to. Grain: incident_id (the events' subject.id).
-- started_at: the earliest detected/reported event; resolved_at: the earliest resolved event.
-- Attribution (contract §2), this model alone decides it, first that applies (attribution_rule):
--   caused_by_deployment  the deployment of that id in the incident's environment (its own service's
--                         if two services share the id);
--   caused_by_change      the first deployment that shipped that change (fct_deployment_changes);
--   caused_by_commit      the first deployment of that commit (a SHA, or an abbreviation of at least
--                         7 hex digits);
--     both of the incident's service if it names one, in its environment, exposed at or before the
--     start. An explicit link that matches nothing leaves the incident unattributed (`…_unmatched`,
--     a data-quality finding).
--   Without a link: the latest deployment of the incident's service in its environment exposed at
--   or before the start, if the incident started before that deployment finished
--   (latest_deployment_in_rollout: a canary's incident is the canary's) or no more than
--   $attribution_window_hours after (latest_deployment_in_window).
-- cause_rule: how the source read the explicit cause that decided ('event field' for the event
-- log's customData; an issue tracker's text rule names its pattern); NULL without one.
-- A commit some deployment shipped (its shipped_commits, known from a commit graph) stands for the
-- commit that deployment deployed: the first such deployment (of the service, in the environment,
-- exposed at or before the start; from any source, also one fct_deployments leaves out because
-- another source reports it) — so the incident goes to the deployment that shipped the culprit, or,
-- when the event log reports the service's deployments, to the event log's deployment of that commit.
-- A named change no deployment is linked to is followed the same way through its merge commit.
CREATE OR REPLACE TABLE fct_incidents AS
WITH events AS (
    SELECT *, environment_group(environment, $production_environments) AS environment_group
    FROM stg_events
    WHERE kind IN ('incident_started', 'incident_resolved')
),
grouped AS (
    SELECT
        subject_id                                                                   AS incident_id,
        min(occurred_at) FILTER (WHERE kind = 'incident_started')                    AS started_at,
        min(occurred_at) FILTER (WHERE kind = 'incident_resolved')                   AS resolved_at,
        -- the start event's facts win over the resolution's
        arg_min(service, (kind <> 'incident_started', occurred_at)) FILTER (WHERE service IS NOT NULL) AS service,
        arg_min(environment_group, (kind <> 'incident_started', occurred_at)) FILTER (WHERE environment IS NOT NULL) AS environment,
        arg_min(severity, occurred_at) FILTER (WHERE severity IS NOT NULL)           AS severity,
        -- each kind of explicit cause with the rule that read it, from the earliest event naming one
        arg_min({'ref': caused_by_deployment, 'rule': cause_rule}, occurred_at)
            FILTER (WHERE caused_by_deployment IS NOT NULL)                          AS deployment_cause,
        arg_min({'ref': caused_by_change, 'rule': cause_rule}, occurred_at)
            FILTER (WHERE caused_by_change IS NOT NULL)                              AS change_cause,
        arg_min({'ref': caused_by_commit, 'rule': cause_rule}, occurred_at)
            FILTER (WHERE caused_by_commit IS NOT NULL)                              AS commit_cause
    FROM events
    GROUP BY subject_id
),
incidents AS (
    SELECT incident_id, started_at, resolved_at, service, environment, severity,
        deployment_cause.ref AS caused_by_deployment,
        change_cause.ref     AS caused_by_change,
        commit_cause.ref     AS caused_by_commit,
        coalesce(deployment_cause, change_cause, commit_cause).rule AS cause_rule
    FROM grouped
),
by_deployment AS (
    SELECT i.incident_id, d.deployment_key
    FROM incidents i
    JOIN fct_deployments d
      ON d.deployment_id = i.caused_by_deployment AND d.environment = i.environment
    QUALIFY row_number() OVER (PARTITION BY i.incident_id
                               ORDER BY (d.service = i.service) DESC NULLS LAST, d.finished_at DESC) = 1
),
-- the deployments linked to each named change, found first and MATERIALIZED so the planner cannot
-- reorder the joins: inside a build's transaction the just-rebuilt fct_deployments has no statistics,
-- and at 1M deployments it joined the incidents to every deployment of their environment first
-- (270M rows, 100-300 s) before looking at the links (docs/performance.md, "Memory")
change_links AS MATERIALIZED (
    SELECT i.incident_id, i.service, i.environment, i.started_at, l.deployment_key
    FROM incidents i
    JOIN fct_deployment_changes l ON l.change_id = i.caused_by_change
    WHERE i.caused_by_deployment IS NULL
),
by_change_link AS (
    SELECT c.incident_id, d.deployment_key
    FROM change_links c
    JOIN fct_deployments d
      ON d.deployment_key = c.deployment_key AND d.environment = c.environment
     AND (c.service IS NULL OR d.service = c.service)
     AND d.exposed_at <= c.started_at
    QUALIFY row_number() OVER (PARTITION BY c.incident_id ORDER BY d.exposed_at, d.finished_at, d.service, d.deployment_id) = 1
),
-- the commit a link names: caused_by_commit, or the merge commit of a named change no deployment is
-- linked to
named_commits AS (
    SELECT i.incident_id, i.service, i.environment, i.started_at,
        CASE WHEN i.caused_by_change IS NOT NULL THEN c.commit_sha ELSE i.caused_by_commit END AS named_commit
    FROM incidents i
    LEFT JOIN fct_changes c ON c.change_id = i.caused_by_change
    WHERE i.caused_by_deployment IS NULL AND (i.caused_by_change IS NOT NULL OR i.caused_by_commit IS NOT NULL)
      AND NOT EXISTS (SELECT 1 FROM by_change_link b WHERE b.incident_id = i.incident_id)
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
commit_targets AS (
    SELECT n.incident_id, n.service, n.environment, n.started_at,
        coalesce(s.deployed_commit, n.named_commit) AS target_commit
    FROM named_commits n
    LEFT JOIN shipped_by s USING (incident_id)
),
by_commit AS (
    SELECT t.incident_id, d.deployment_key
    FROM commit_targets t
    JOIN fct_deployments d
      -- the whole SHA, or an abbreviation of at least 7 hex digits; equal first 7 characters first
      ON left(d.commit_sha, 7) = left(t.target_commit, 7)
     AND (d.commit_sha = t.target_commit
          OR (regexp_matches(t.target_commit, '^[0-9a-f]{7,40}$') AND starts_with(d.commit_sha, t.target_commit)))
     AND d.environment = t.environment
     AND (t.service IS NULL OR d.service = t.service)
     AND d.exposed_at <= t.started_at
    QUALIFY row_number() OVER (PARTITION BY t.incident_id ORDER BY d.exposed_at, d.finished_at, d.service, d.deployment_id) = 1
),
latest_before AS (
    SELECT i.incident_id, d.deployment_key, d.finished_at
    FROM incidents i
    ASOF JOIN fct_deployments d
      ON d.service = i.service AND d.environment = i.environment AND i.started_at >= d.exposed_at
    WHERE i.caused_by_deployment IS NULL AND i.caused_by_change IS NULL AND i.caused_by_commit IS NULL
      AND i.started_at IS NOT NULL
),
attributed AS (
    SELECT i.*,
        CASE
            WHEN i.caused_by_deployment IS NOT NULL THEN bd.deployment_key
            WHEN i.caused_by_change IS NOT NULL OR i.caused_by_commit IS NOT NULL
                THEN coalesce(bl.deployment_key, bc.deployment_key)
            -- a deployment still rolling out when the incident started finishes after it
            WHEN lb.finished_at >= i.started_at - to_hours($attribution_window_hours::BIGINT) THEN lb.deployment_key
        END AS deployment_key,
        CASE
            WHEN i.caused_by_deployment IS NOT NULL AND bd.deployment_key IS NOT NULL THEN 'caused_by_deployment'
            WHEN i.caused_by_deployment IS NOT NULL THEN 'caused_by_deployment_unmatched'
            WHEN i.caused_by_change IS NOT NULL AND coalesce(bl.deployment_key, bc.deployment_key) IS NOT NULL
                THEN 'caused_by_change'
            WHEN i.caused_by_change IS NOT NULL THEN 'caused_by_change_unmatched'
            WHEN i.caused_by_commit IS NOT NULL AND bc.deployment_key IS NOT NULL THEN 'caused_by_commit'
            WHEN i.caused_by_commit IS NOT NULL THEN 'caused_by_commit_unmatched'
            WHEN i.started_at IS NULL THEN 'never_started'
            WHEN i.service IS NULL THEN 'no_service'
            WHEN lb.deployment_key IS NULL THEN 'no_deployment_before'
            WHEN lb.finished_at > i.started_at THEN 'latest_deployment_in_rollout'
            WHEN lb.finished_at >= i.started_at - to_hours($attribution_window_hours::BIGINT) THEN 'latest_deployment_in_window'
            ELSE 'outside_window'
        END AS attribution_rule
    FROM incidents i
    LEFT JOIN by_deployment bd USING (incident_id)
    LEFT JOIN by_change_link bl USING (incident_id)
    LEFT JOIN by_commit bc USING (incident_id)
    LEFT JOIN latest_before lb USING (incident_id)
)
SELECT
    incident_id, service, environment, severity, started_at, resolved_at,
    (epoch(resolved_at) - epoch(started_at)) / 60.0                         AS recovery_minutes,
    caused_by_deployment, caused_by_commit, deployment_key, attribution_rule,
    caused_by_change,
    cause_rule                                 -- how the explicit cause was read (NULL: none)
FROM attributed;
