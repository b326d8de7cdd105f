-- fct_deployment_changes: which changes each deployment shipped, and the rule that linked them.
-- Grain: (deployment_key, change_id). Rules, per deployment, first that applies (contract §2):
--   explicit      the deployment's own `changes` list, taken as given;
--   commit_graph  changes whose merge commit is among the commits between the service's previous
--                 deployment and this one (shipped_commits, known from GitHub's compare);
--   merge_window  changes of its repository merged after the service's previous deployment in that
--                 environment finished and no later than this one finished. A service's first
--                 deployment ever seen has no previous one, so it ships nothing by this rule.
CREATE OR REPLACE TABLE fct_deployment_changes AS
WITH explicit AS (
    SELECT d.deployment_key, unnest(d.change_ids) AS change_id, 'explicit' AS rule
    FROM fct_deployments d
    WHERE d.change_ids IS NOT NULL
),
graph_commits AS (
    SELECT d.deployment_key, d.repository, unnest(d.shipped_commits) AS commit_sha
    FROM fct_deployments d
    WHERE d.change_ids IS NULL AND d.shipped_commits IS NOT NULL
),
graph AS (
    SELECT g.deployment_key, c.change_id, 'commit_graph' AS rule
    FROM graph_commits g
    JOIN fct_changes c ON c.commit_sha = g.commit_sha AND c.repository IS NOT DISTINCT FROM g.repository
),
-- each (repository, service, environment) a change could be deployed by
streams AS (
    SELECT DISTINCT repository, service, environment FROM fct_deployments WHERE repository IS NOT NULL
),
-- the first deployment of each stream finishing at or after the merge is the one whose window holds it
next_deployment AS (
    SELECT c.change_id, d.deployment_key, d.change_ids, d.shipped_commits, d.previous_finished_at
    FROM fct_changes c
    JOIN streams s ON s.repository = c.repository
    ASOF JOIN fct_deployments d
      ON d.repository = s.repository AND d.service = s.service AND d.environment = s.environment
     AND d.finished_at >= c.merged_at
),
merge_window AS (
    SELECT deployment_key, change_id, 'merge_window' AS rule
    FROM next_deployment
    WHERE change_ids IS NULL AND shipped_commits IS NULL AND previous_finished_at IS NOT NULL
)
SELECT DISTINCT ON (deployment_key, change_id) deployment_key, change_id, rule
FROM (SELECT * FROM explicit UNION ALL SELECT * FROM graph UNION ALL SELECT * FROM merge_window);
