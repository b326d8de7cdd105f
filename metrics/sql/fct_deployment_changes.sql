-- fct_deployment_changes: which changes each deployment shipped, and the rule that linked them.
-- Grain: (deployment_key, change_id). Rules, per deployment, first that applies (contract §2):
--   explicit      the deployment's own `changes` list, taken as given;
--   commit_graph  changes whose merge commit is among the commits between the service's previous
--                 deployment and this one (shipped_commits, known from GitHub's compare);
--   merge_window  changes of its repository merged after the service's previous deployment in that
--                 environment finished and no later than this one finished. A service's first
--                 deployment ever seen has no previous one, so it ships nothing by this rule.
-- A deployment is under exactly one rule, so only a list that names a change twice makes duplicates.
CREATE OR REPLACE TABLE fct_deployment_changes AS
WITH lists AS (
    SELECT deployment_key, change_ids,
           -- a list with no repeats (and no nulls, which list_distinct drops) needs no dedupe
           len(list_distinct(change_ids)) = len(change_ids) AS distinct_ids
    FROM fct_deployments
    WHERE change_ids IS NOT NULL
),
explicit AS (
    SELECT deployment_key, unnest(change_ids) AS change_id, 'explicit' AS rule, distinct_ids FROM lists
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
-- each (repository, service, environment) a change could be deployed by, numbered: the search for
-- the next deployment matches one integer instead of three names (several times faster)
streams AS (
    SELECT repository, service, environment, row_number() OVER () AS stream_id
    FROM (SELECT DISTINCT repository, service, environment FROM fct_deployments WHERE repository IS NOT NULL)
),
stream_deployments AS (
    SELECT s.stream_id, d.finished_at, d.deployment_key,
           d.change_ids IS NULL AND d.shipped_commits IS NULL AND d.previous_finished_at IS NOT NULL AS by_window
    FROM fct_deployments d
    JOIN streams s ON s.repository = d.repository AND s.service = d.service AND s.environment = d.environment
),
-- a change stands for itself by its row id (rowid) until its id is needed: the ASOF join sorts 12M
-- (change, stream) pairs, which with the change id's text spilled and took twice as long at scale 1
stream_changes AS (
    SELECT s.stream_id, c.rowid AS change_row, c.merged_at
    FROM fct_changes c
    JOIN streams s ON s.repository = c.repository
),
-- the first deployment of each stream finishing at or after the merge is the one whose window holds it
next_deployment AS (
    SELECT c.change_row, d.deployment_key
    FROM stream_changes c
    ASOF JOIN stream_deployments d ON d.stream_id = c.stream_id AND d.finished_at >= c.merged_at
    WHERE d.by_window
)
SELECT deployment_key, change_id, rule FROM explicit WHERE distinct_ids
UNION ALL
SELECT DISTINCT ON (deployment_key, change_id) deployment_key, change_id, rule
FROM (SELECT deployment_key, change_id, rule FROM explicit WHERE NOT distinct_ids
      UNION ALL SELECT * FROM graph)
UNION ALL
SELECT n.deployment_key, c.change_id, 'merge_window' AS rule
FROM next_deployment n
JOIN fct_changes c ON c.rowid = n.change_row;
