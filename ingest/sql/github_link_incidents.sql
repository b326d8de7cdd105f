-- github_link_incidents: resolve each GitHub incident's `caused_by_ref` (custom_data) of $source.
-- Grain: updates the incident rows of one repository. A reference to a PR means its merge commit;
-- a (short) SHA means that commit. It is resolved to the first production deployment of the
-- repository (of the incident's service, if it names one) that shipped that commit and finished at
-- or before the incident started, and the incident is linked by that deployment's *deployed commit*
-- (caused_by_commit): fct_incidents then attributes it to the first deployment of that commit, which
-- is the same deployment here, and is still the right one when the event log, not GitHub, reports
-- the service's deployments (docs/github.md). If none shipped it, the commit (or the unresolved
-- reference) itself goes to caused_by_commit, so an explicit link that matches nothing is reported
-- (dq_findings: incident_link_unmatched), never silently dropped.
UPDATE stg_events SET caused_by_deployment = NULL, caused_by_commit = r.commit_ref
FROM (
    WITH refs AS (
        SELECT DISTINCT event_id, subject_id, service, json_extract_string(custom_data, '$.caused_by_ref') AS ref
        FROM stg_events
        WHERE source = $source AND kind = 'incident_started'
          AND json_extract_string(custom_data, '$.caused_by_ref') IS NOT NULL
    ),
    started AS (
        SELECT event_id, min(occurred_at) AS started_at FROM stg_events
        WHERE source = $source AND kind = 'incident_started' GROUP BY event_id
    ),
    pr_commits AS (
        SELECT $repository || '#' || json_extract_string(payload, '$.number') AS ref,
               json_extract_string(payload, '$.mergeCommit.oid')             AS sha
        FROM raw_events WHERE source = $source AND event_type = 'github.pull_request'
    ),
    resolved AS (
        SELECT r.*, coalesce(p.sha, CASE WHEN regexp_matches(r.ref, '^[0-9a-f]{7,40}$') THEN r.ref END) AS sha
        FROM refs r LEFT JOIN pr_commits p USING (ref)
    ),
    -- what each deployment shipped (a first deployment ships nothing: an explicit link to a commit
    -- only it deployed stays in caused_by_commit, where fct_incidents matches the deployed commit)
    deployed_commits AS (
        SELECT deployment_id, service, occurred_at, commit_sha AS deployed_commit, unnest(shipped_commits) AS sha
        FROM stg_events WHERE source = $source AND kind = 'deployment' AND shipped_commits IS NOT NULL
    ),
    matched AS (
        SELECT r.event_id, arg_min(d.deployed_commit, (d.occurred_at, d.deployment_id)) AS deployed_commit
        FROM resolved r
        JOIN started s USING (event_id)
        JOIN deployed_commits d
          ON starts_with(d.sha, r.sha) AND d.occurred_at <= s.started_at
         AND (r.service IS NULL OR d.service = r.service)
        GROUP BY r.event_id
    )
    SELECT r.event_id, coalesce(m.deployed_commit, r.sha, r.ref) AS commit_ref
    FROM resolved r LEFT JOIN matched m USING (event_id)
) r
WHERE stg_events.source = $source AND stg_events.event_id = r.event_id
  AND stg_events.kind IN ('incident_started', 'incident_resolved')
