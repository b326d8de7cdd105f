-- link_scope_fct_deployments: the deployments fct_deployment_changes reads in a row-scoped build
-- (metrics.build): the changed ones (build_scope.deployments); in every repository, each deployment
-- finishing at or after the earliest merge among the scoped changes (link_scope_fct_changes) of that
-- repository, so that the search for a change's next deployment finds the one a full build finds; and
-- those that shipped the commit of a change reported since.
CREATE TABLE build_scope.fct_deployments AS
WITH merges AS (
    SELECT repository, min(merged_at) AS since
    FROM build_scope.fct_changes WHERE repository IS NOT NULL
    GROUP BY repository
),
reported AS (
    SELECT list(DISTINCT commit_sha) AS commits
    FROM main.fct_changes
    WHERE change_id IN (SELECT change_id FROM build_scope.changes) AND commit_sha IS NOT NULL
)
SELECT d.*
FROM main.fct_deployments d
LEFT JOIN merges m ON m.repository = d.repository
WHERE d.finished_at >= m.since
   OR d.deployment_key IN (SELECT deployment_key FROM build_scope.deployments)
   OR (d.shipped_commits IS NOT NULL AND list_has_any(d.shipped_commits, (SELECT commits FROM reported)))
