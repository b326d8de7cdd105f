-- stg_github__issues: incident issues (REST payloads in gh_batch; pull requests were dropped) into
-- stg_events. Grain: per issue carrying one of $incident_labels, an incident_started row (created_at)
-- and, if it is closed, an incident_resolved row (closed_at); a reopened issue loses its
-- resolution when it is read again. subject_id `owner/name#number`. Service: in a monorepo, the
-- service named by a label (`payments` or `service:payments`), else the repository's service.
-- Severity: a label `sev1`, `sev:1`, `severity:high`, … caused_by_commit: what the body's first
-- `Caused by: <ref>` or `Root cause: <ref>` names, written as the change id `owner/name#123` (for
-- #123, owner/name#123 or a pull-request URL) or a lower-case commit SHA of 7–40 hex digits;
-- fct_incidents alone decides which deployment that is.
INSERT INTO stg_events (
    origin, source, event_id, ingest_run_id, kind, predicate, occurred_at, subject_id, service,
    environment, deployment_id, commit_sha, repository, change_ids, shipped_commits, started_at,
    unplanned, rolled_back_deployment, first_commit_at, opened_at, first_review_at, merged_at,
    additions, deletions, author, title, severity, caused_by_deployment, caused_by_commit,
    pipeline_name, task_name, pipeline_run_id, outcome, custom_data
)
WITH issues AS (
    SELECT source, event_id, payload::JSON AS p FROM gh_batch
),
fields AS (
    SELECT source, event_id,
        $repository || '#' || json_extract_string(p, '$.number')                   AS incident_id,
        list_transform(json_extract_string(p, '$.labels[*].name'), lambda x: lower(x)) AS labels,
        json_extract_string(p, '$.state')                                           AS state,
        json_extract_string(p, '$.created_at')::TIMESTAMPTZ                         AS created_at,
        TRY_CAST(json_extract_string(p, '$.closed_at') AS TIMESTAMPTZ)              AS closed_at,
        json_extract_string(p, '$.title')                                           AS title,
        json_extract_string(p, '$.user.login')                                      AS author,
        json_extract_string(p, '$.html_url')                                        AS url,
        rtrim(regexp_extract(coalesce(json_extract_string(p, '$.body'), ''),
              '(?i)(?:caused by|root cause)[ \t]*:?[ \t]*([^ \t\r\n]+)', 1), '.,;:)')  AS ref_token
    FROM issues
),
typed AS (
    SELECT *,
        CASE
            WHEN regexp_matches(ref_token, '^#[0-9]+$') THEN $repository || ref_token
            WHEN regexp_matches(ref_token, '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#[0-9]+$') THEN ref_token
            WHEN regexp_matches(ref_token, '/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/pull/[0-9]+')
                THEN regexp_extract(ref_token, '/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)/pull/([0-9]+)', 1)
                     || '#' || regexp_extract(ref_token, '/pull/([0-9]+)', 1)
            WHEN regexp_matches(lower(ref_token), '^[0-9a-f]{7,40}$') THEN lower(ref_token)
        END                                                                          AS caused_by_commit,
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
       nullif(regexp_replace(severity_label, '^sev(erity)?[:-]?', ''), ''), NULL, caused_by_commit,
       NULL, NULL, NULL, NULL,
       json_object('url', url, 'labels', labels)
FROM typed,
     (VALUES ('incident_started', 'detected'), ('incident_resolved', 'resolved')) k(kind, predicate),
     LATERAL (SELECT CASE kind WHEN 'incident_started' THEN created_at ELSE closed_at END AS event_at)
WHERE kind = 'incident_started' OR (state = 'closed' AND closed_at IS NOT NULL)
