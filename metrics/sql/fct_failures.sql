-- fct_failures: one row per failed deployment: rolled back, or with at least one incident
-- attributed to it; counted once however many incidents it has.
-- recovered_at (failed deployment recovery, DORA 2023+): its first rollback if rolled back, else the
-- resolution of the last of its incidents; whichever comes first when it has both. Unknown (NULL)
-- while an incident is unresolved and there is no rollback.
-- recovery_minutes runs from the deployment's finish to recovered_at, or from its first exposure when
-- it was recovered before it finished (recovery_from 'exposure': a rollout stopped mid-way). Negative
-- only when it recovered before it was exposed (a data error, reported by dq_findings).
-- blast_radius_percent: the highest traffic share it reached before (or at) its recovery; all it
-- reached while it is not recovered. caught_in_rollout: recovered after its exposure and before its
-- rollout first reached 100% of traffic.
CREATE OR REPLACE TABLE fct_failures AS
WITH rollbacks AS (
    SELECT deployment_key, min(rolled_back_at) AS rolled_back_at, count(*) AS rollback_count
    FROM fct_rollbacks
    WHERE deployment_key IS NOT NULL
    GROUP BY deployment_key
),
incidents AS (
    SELECT deployment_key,
        count(*)                                               AS incident_count,
        list(incident_id ORDER BY started_at, incident_id)     AS incident_ids,
        -- max() would skip an unresolved incident: the last resolution is unknown while one is open
        CASE WHEN count(resolved_at) = count(*) THEN max(resolved_at) END AS incidents_resolved_at
    FROM fct_incidents
    WHERE deployment_key IS NOT NULL
    GROUP BY deployment_key
),
failures AS (
    SELECT d.deployment_key, d.service, d.environment, d.deployment_id, d.exposed_at, d.finished_at,
        d.max_traffic_percent, d.full_traffic_at, d.origins,
        r.rolled_back_at, i.incident_count, i.incident_ids, i.incidents_resolved_at,
        least(r.rolled_back_at, i.incidents_resolved_at)                  AS recovered_at
    FROM fct_deployments d
    LEFT JOIN rollbacks r USING (deployment_key)
    LEFT JOIN incidents i USING (deployment_key)
    WHERE r.deployment_key IS NOT NULL OR i.deployment_key IS NOT NULL
),
-- Speed: only a failure recovered before it finished (a rollout of several events) needs the traffic
-- of each of its events; every other one reached its max_traffic_percent before recovering.
recovered_mid_rollout AS (
    SELECT f.deployment_key, max(coalesce(e.traffic_percent, 100)) AS blast_radius_percent
    FROM failures f
    JOIN stg_events e
      ON e.deployment_id = f.deployment_id AND e.service = f.service AND e.kind = 'deployment'
     AND environment_group(e.environment, $production_environments) = f.environment
     AND list_contains(f.origins, e.origin)
     AND e.occurred_at <= f.recovered_at
    WHERE f.recovered_at < f.finished_at
    GROUP BY f.deployment_key
)
SELECT
    f.deployment_key, f.service, f.environment, f.deployment_id, f.finished_at,
    f.rolled_back_at IS NOT NULL                                           AS rolled_back,
    coalesce(f.incident_count, 0)                                          AS incident_count,
    f.incident_ids,
    f.rolled_back_at,
    f.incidents_resolved_at,
    CASE WHEN f.rolled_back_at IS NOT NULL AND f.incident_count > 0 THEN 'rollback+incident'
         WHEN f.rolled_back_at IS NOT NULL THEN 'rollback'
         ELSE 'incident' END                                               AS reason,
    f.recovered_at,
    CASE WHEN f.rolled_back_at IS NOT NULL
              AND (f.incidents_resolved_at IS NULL OR f.rolled_back_at <= f.incidents_resolved_at) THEN 'rollback'
         WHEN f.incidents_resolved_at IS NOT NULL THEN 'last_incident_resolved' END AS recovery_rule,
    -- epoch arithmetic: exact to the microsecond and far cheaper than date_diff on TIMESTAMPTZ
    (epoch(f.recovered_at)
     - epoch(CASE WHEN f.recovered_at < f.finished_at THEN f.exposed_at ELSE f.finished_at END)) / 60.0 AS recovery_minutes,
    f.exposed_at,
    CASE WHEN f.recovered_at < f.finished_at THEN 'exposure'
         WHEN f.recovered_at IS NOT NULL THEN 'finish' END                 AS recovery_from,
    CASE WHEN f.recovered_at < f.finished_at THEN m.blast_radius_percent
         ELSE f.max_traffic_percent END                                    AS blast_radius_percent,
    coalesce(f.recovered_at >= f.exposed_at
             AND (f.full_traffic_at IS NULL OR f.recovered_at < f.full_traffic_at), false) AS caught_in_rollout
FROM failures f
LEFT JOIN recovered_mid_rollout m USING (deployment_key);
