-- github_pull_commits: what the linker needs of each merged PR read for $source: its merge commit,
-- the paths it touched (a monorepo's services) and its labels (hotfixes). Grain: one row per PR.
SELECT json_extract_string(payload, '$.mergeCommit.oid')       AS merge_commit_sha,
       json_extract_string(payload, '$.files.nodes[*].path')   AS paths,
       json_extract_string(payload, '$.labels.nodes[*].name')  AS labels
FROM raw_events
WHERE source = $source AND event_type = 'github.pull_request'
