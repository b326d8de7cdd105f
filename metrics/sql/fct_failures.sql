-- fct_failures: one row per failed deployment: rolled back, or with at least one incident
-- attributed to it; counted once however many incidents it has.
-- recovered_at (failed deployment recovery, DORA 2023+): its first rollback if rolled back, else the
-- resolution of the last of its incidents; whichever comes first when it has both. Unknown (NULL)
-- while an incident is unresolved and there is no rollback.
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
)
SELECT
    d.deployment_key, d.service, d.environment, d.deployment_id, d.finished_at,
    r.rolled_back_at IS NOT NULL                                           AS rolled_back,
    coalesce(i.incident_count, 0)                                          AS incident_count,
    i.incident_ids,
    r.rolled_back_at,
    i.incidents_resolved_at,
    CASE WHEN r.rolled_back_at IS NOT NULL AND i.incident_count > 0 THEN 'rollback+incident'
         WHEN r.rolled_back_at IS NOT NULL THEN 'rollback'
         ELSE 'incident' END                                               AS reason,
    least(r.rolled_back_at, i.incidents_resolved_at)                      AS recovered_at,
    CASE WHEN r.rolled_back_at IS NOT NULL
              AND (i.incidents_resolved_at IS NULL OR r.rolled_back_at <= i.incidents_resolved_at) THEN 'rollback'
         WHEN i.incidents_resolved_at IS NOT NULL THEN 'last_incident_resolved' END AS recovery_rule,
    -- epoch arithmetic: exact to the microsecond and far cheaper than date_diff on TIMESTAMPTZ
    (epoch(least(r.rolled_back_at, i.incidents_resolved_at)) - epoch(d.finished_at)) / 60.0 AS recovery_minutes
FROM fct_deployments d
LEFT JOIN rollbacks r USING (deployment_key)
LEFT JOIN incidents i USING (deployment_key)
WHERE r.deployment_key IS NOT NULL OR i.deployment_key IS NOT NULL;
