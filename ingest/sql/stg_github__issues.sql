-- stg_github__issues: incident issues (REST payloads in gh_batch; pull requests were dropped) into
-- stg_events. Grain: per issue carrying one of $incident_labels, an incident_started row (created_at)
-- and, if it is closed, an incident_resolved row (closed_at); a reopened issue loses its
-- resolution when it is read again. subject_id `owner/name#number`. Service: in a monorepo, the
-- service named by a label (`payments` or `service:payments`), else the repository's service.
-- Severity: a label `sev1`, `sev:1`, `severity:high`, …
-- The explicit cause is what the issue's text states, read by ingest/github/causes.py (gh_batch's
-- cause_kind, cause_ref, cause_rule; docs/github.md lists the forms) and put in the repository's
-- terms here: a change `#75` is in this repository (caused_by_change `owner/name#75`); a commit is
-- its lower-case SHA or prefix (caused_by_commit); a deployment named by a bare number is one of
-- this repository's own (caused_by_deployment `github:owner/name:deployment:12345`, the id its
-- deployments are staged with), any other deployment id is taken as written (an event-log id).
-- cause_rule names the rule that read it. fct_incidents alone decides which deployment that is.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome, caused_by_change, cause_rule
)
WITH issues AS (
    SELECT source, event_id, payload::JSON AS p, cause_kind, cause_ref, cause_rule FROM gh_batch
),
fields AS (
    SELECT source, event_id, cause_rule,
        $repository || '#' || json_extract_string(p, '$.number')                   AS incident_id,
        list_transform(json_extract_string(p, '$.labels[*].name'), lambda x: lower(x)) AS labels,
        json_extract_string(p, '$.state')                                           AS state,
        json_extract_string(p, '$.created_at')::TIMESTAMPTZ                         AS created_at,
        TRY_CAST(json_extract_string(p, '$.closed_at') AS TIMESTAMPTZ)              AS closed_at,
        json_extract_string(p, '$.title')                                           AS title,
        json_extract_string(p, '$.user.login')                                      AS author,
        CASE WHEN cause_kind = 'change' AND starts_with(cause_ref, '#') THEN $repository || cause_ref
             WHEN cause_kind = 'change' THEN cause_ref END                          AS caused_by_change,
        CASE WHEN cause_kind = 'commit' THEN cause_ref END                          AS caused_by_commit,
        CASE WHEN cause_kind = 'deployment' AND regexp_matches(cause_ref, '^[0-9]+$')
                 THEN $deployment_id_prefix || cause_ref
             WHEN cause_kind = 'deployment' THEN cause_ref END                      AS caused_by_deployment
    FROM issues
),
typed AS (
    SELECT *,
        coalesce(list_filter($service_names::VARCHAR[],
                             lambda s: list_contains(labels, lower(s)) OR list_contains(labels, 'service:' || lower(s)))[1],
                 $service)                                                           AS service,
        list_filter(labels, lambda l: regexp_matches(l, '^sev(erity)?[:-]?[a-z0-9]+$'))[1] AS severity_label
    FROM fields
    WHERE len(list_intersect(labels, $incident_labels::VARCHAR[])) > 0
)
SELECT 'github', source, event_id, $run_id, kind, predicate, event_at, incident_id, service,
       $environment, NULL, NULL, $repository, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, author, title,
       nullif(regexp_replace(severity_label, '^sev(erity)?[:-]?', ''), ''), caused_by_deployment, caused_by_commit,
       NULL, NULL, NULL, NULL, caused_by_change, cause_rule
FROM typed,
     (VALUES ('incident_started', 'detected'), ('incident_resolved', 'resolved')) k(kind, predicate),
     LATERAL (SELECT CASE kind WHEN 'incident_started' THEN created_at ELSE closed_at END AS event_at)
WHERE kind = 'incident_started' OR (state = 'closed' AND closed_at IS NOT NULL)
