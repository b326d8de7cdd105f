-- github_staged_deployments: the staged deployments of $source that belong to a service, in the
-- order of ingest.github.link.DeploymentRef's fields. Grain: one row per staged deployment.
SELECT event_id, service, commit_sha, occurred_at, deployment_id
FROM stg_events
WHERE source = $source AND kind = 'deployment' AND service IS NOT NULL
