-- fct_deployment_batches: every deployment's batch size and cadence, with whether it failed.
-- Grain: deployment_key (every environment, like fct_deployments). docs/metrics.md, "Batch size and risk".
--   changes        changes it shipped (fct_deployment_changes, whatever rule linked them)
--   lines_changed  additions + deletions of those changes; NULL when any of them lacks either count
--                  or has no change.merged event (a partial sum would understate the batch)
--   deploys_that_week  deployments of its service in its environment in its ISO week ($timezone),
--                  itself included, so never below 1
-- Buckets: changes none (0 linked) / 1 / 2–5 / 6–15 / 16+; lines none (0 linked) / unknown /
-- <100 / 100–400 / 400–2000 / 2000+ (lower bound inclusive); cadence 1 / 2–7 / 8–35 / 36+.
CREATE OR REPLACE TABLE fct_deployment_batches AS
WITH linked AS (
    SELECT l.deployment_key,
        count(*)                                                              AS changes,
        sum(c.additions + c.deletions)                                        AS lines_sum,
        count(*) FILTER (WHERE c.additions IS NULL OR c.deletions IS NULL)    AS lines_unknown
    FROM fct_deployment_changes l
    LEFT JOIN fct_changes c USING (change_id)
    GROUP BY l.deployment_key
),
batches AS (
    SELECT d.deployment_key, d.service, d.environment, d.deployment_id, d.finished_at, d.unplanned,
        coalesce(l.changes, 0)                                                AS changes,
        CASE WHEN l.changes IS NULL THEN 0 WHEN l.lines_unknown = 0 THEN l.lines_sum END AS lines_changed,
        count(*) OVER (PARTITION BY d.service, d.environment,
                       period_start_of(local_day(d.finished_at, $timezone), 'week')) AS deploys_that_week
    FROM fct_deployments d
    LEFT JOIN linked l USING (deployment_key)
)
SELECT
    b.deployment_key, b.service, b.environment, b.deployment_id, b.finished_at, b.unplanned,
    b.changes, b.lines_changed, b.deploys_that_week,
    CASE WHEN b.changes = 0 THEN 'none' WHEN b.changes = 1 THEN '1' WHEN b.changes <= 5 THEN '2–5'
         WHEN b.changes <= 15 THEN '6–15' ELSE '16+' END                      AS change_bucket,
    CASE WHEN b.changes = 0 THEN 'none' WHEN b.lines_changed IS NULL THEN 'unknown'
         WHEN b.lines_changed < 100 THEN '<100' WHEN b.lines_changed < 400 THEN '100–400'
         WHEN b.lines_changed < 2000 THEN '400–2000' ELSE '2000+' END         AS lines_bucket,
    CASE WHEN b.deploys_that_week <= 1 THEN '1' WHEN b.deploys_that_week <= 7 THEN '2–7'
         WHEN b.deploys_that_week <= 35 THEN '8–35' ELSE '36+' END            AS cadence_bucket,
    f.deployment_key IS NOT NULL                                              AS failed,
    f.recovery_minutes
FROM batches b
LEFT JOIN fct_failures f USING (deployment_key);
