-- The drill-down's own columns for deployment records (metrics.explain lists them; this adds what a
-- spreadsheet needs as separate cells): how many changes each shipped and by which link rule, its
-- commit, when users first saw it and how far its rollout went.
-- Grain: one row per deployment_key in $keys.
WITH links AS (
    SELECT deployment_key, count(*) AS changes, string_agg(DISTINCT rule, ', ' ORDER BY rule) AS change_link_rule
    FROM fct_deployment_changes
    WHERE deployment_key IN (SELECT unnest($keys::BIGINT[]))
    GROUP BY deployment_key
)
SELECT
    d.deployment_key,
    coalesce(l.changes, 0)          AS changes,          -- changes shipped
    l.change_link_rule,                                  -- how they were linked (explicit, commit_graph, merge_window)
    d.commit_sha                    AS commit,           -- the whole SHA
    d.exposed_at,                                        -- first production event (a rollout's start)
    d.max_traffic_percent                                -- how far its rollout went (100: all traffic)
FROM fct_deployments d
LEFT JOIN links l USING (deployment_key)
WHERE d.deployment_key IN (SELECT unnest($keys::BIGINT[]))
