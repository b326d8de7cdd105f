-- link_scope_fct_changes: the changes fct_deployment_changes reads in a row-scoped build (metrics.build):
-- the changes reported since (build_scope.changes), and every change a changed deployment
-- (build_scope.deployments) may ship — merged in its repository since the earliest of those
-- deployments' predecessors finished (its window), or merged as one of its shipped commits.
-- Found by key, then read whole by rowid (see metrics.build ROW_SCOPES).
CREATE TABLE build_scope.fct_changes AS
WITH changed AS (
    SELECT * FROM main.fct_deployments WHERE deployment_key IN (SELECT deployment_key FROM build_scope.deployments)
),
windows AS (
    SELECT repository, min(previous_finished_at) AS since
    FROM changed WHERE repository IS NOT NULL
    GROUP BY repository
),
shipped AS (
    SELECT DISTINCT unnest(shipped_commits) AS commit_sha FROM changed WHERE shipped_commits IS NOT NULL
)
SELECT * FROM main.fct_changes
WHERE rowid IN (SELECT c.rowid
                FROM main.fct_changes c
                LEFT JOIN windows w ON w.repository = c.repository
                WHERE c.merged_at >= w.since
                   OR c.change_id IN (SELECT change_id FROM build_scope.changes)
                   OR c.commit_sha IN (SELECT commit_sha FROM shipped))
