-- stg_eventlog__lines: one row per non-blank line of the event-log chunk in `load_lines`,
-- parsed and validated in bulk. `reason` is NULL for a valid CDEvent, else why the line is rejected.
-- A structured CloudEvent is unwrapped to the CDEvent in its `data`. `kind` is NULL for event types
-- the metrics do not use (kept raw, ignored). Every timestamp is RFC 3339 with an offset, stored UTC.
WITH lines AS (
    SELECT file, line_no, rtrim(raw, chr(13)) AS raw, decode_error
    FROM load_lines
    WHERE raw IS NOT NULL AND trim(raw, chr(13) || chr(32) || chr(9)) <> ''
),
docs AS (
    SELECT *,
        CASE WHEN NOT decode_error AND json_valid(raw) THEN raw::JSON END AS doc
    FROM lines
),
unwrapped AS (
    SELECT *,
        -- CloudEvents structured mode: the whole CDEvent is the `data` member
        CASE WHEN json_type(doc) = 'OBJECT' AND json_type(doc, '$.context') IS NULL
                  AND json_type(doc, '$.data') = 'OBJECT'
             THEN json_extract(doc, '$.data') ELSE doc END AS ev
    FROM docs
),
fields AS (
    SELECT *,
        json_type(ev) AS ev_type,
        json_type(ev, '$.context') AS context_type,
        json_extract_string(ev, [
            '$.context.id', '$.context.source', '$.context.type', '$.context.timestamp',   -- 1..4
            '$.subject.id', '$.subject.content.environment.id', '$.subject.content.service.id', -- 5..7
            '$.customData.deployment_id', '$.customData.commit', '$.customData.repository',  -- 8..10
            '$.customData.started_at', '$.customData.rolled_back_deployment',                -- 11..12
            '$.customData.first_commit_at', '$.customData.opened_at',                        -- 13..14
            '$.customData.first_review_at', '$.customData.merged_at',                        -- 15..16
            '$.customData.author', '$.customData.title', '$.customData.severity',            -- 17..19
            '$.customData.caused_by_deployment', '$.customData.caused_by_commit',            -- 20..21
            '$.subject.content.pipelineName', '$.subject.content.taskName',                  -- 22..23
            '$.subject.content.pipelineRun.id', '$.subject.content.outcome',                 -- 24..25
            '$.customData.service', '$.subject.content.repository.id'                        -- 26..27
        ]) AS f,
        json_type(ev, '$.customData.changes') AS changes_type,
        json_extract(ev, '$.customData.changes') AS changes_json,
        json_type(ev, '$.customData.unplanned') AS unplanned_type,
        json_type(ev, '$.customData.additions') AS additions_type,
        json_type(ev, '$.customData.deletions') AS deletions_type,
        json_extract(ev, '$.customData') AS custom_data
    FROM unwrapped
),
typed AS (
    SELECT *,
        regexp_extract(f[3], '^dev\.cdevents\.([a-z]+)\.([a-z]+)\.0\.[0-9]+\.[0-9]+', ['subject', 'predicate']) AS t,
        -- RFC 3339 requires an offset; a bare local time would be silently read as UTC otherwise
        '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$' AS rfc3339
    FROM fields
),
classified AS (
    SELECT *,
        CASE t.subject || '.' || t.predicate
            WHEN 'service.deployed' THEN 'deployment'
            WHEN 'service.upgraded' THEN 'deployment'
            WHEN 'service.rolledback' THEN 'rollback'
            WHEN 'change.merged' THEN 'change_merged'
            WHEN 'incident.detected' THEN 'incident_started'
            WHEN 'incident.reported' THEN 'incident_started'
            WHEN 'incident.resolved' THEN 'incident_resolved'
            ELSE CASE t.subject WHEN 'pipelinerun' THEN 'pipelinerun' WHEN 'taskrun' THEN 'taskrun' END
        END AS kind
    FROM typed
),
checked AS (
    SELECT *,
        CASE
            WHEN decode_error THEN 'not valid UTF-8'
            WHEN doc IS NULL THEN 'not valid JSON'
            WHEN ev_type <> 'OBJECT' THEN 'not a CDEvent: the line is a JSON ' || lower(ev_type) || ', not an object'
            WHEN context_type IS NULL THEN 'not a CDEvent: no "context" object'
            WHEN context_type <> 'OBJECT' THEN 'not a CDEvent: "context" is not an object'
            WHEN coalesce(f[1], '') = '' THEN 'not a CDEvent: missing context.id'
            WHEN coalesce(f[2], '') = '' THEN 'not a CDEvent: missing context.source'
            WHEN coalesce(f[3], '') = '' THEN 'not a CDEvent: missing context.type'
            WHEN NOT regexp_matches(f[3], '^dev\.cdevents(x)?\.[A-Za-z0-9_-]+\.') THEN 'not a CDEvent: context.type "' || f[3] || '" is not dev.cdevents.*'
            WHEN f[4] IS NULL THEN 'not a CDEvent: missing context.timestamp'
            WHEN NOT regexp_matches(f[4], rfc3339) OR TRY_CAST(f[4] AS TIMESTAMPTZ) IS NULL
                THEN 'context.timestamp "' || f[4] || '" is not an RFC 3339 timestamp with an offset'
            WHEN kind IS NOT NULL AND coalesce(f[5], '') = '' THEN t.subject || '.' || t.predicate || ' needs subject.id'
            WHEN kind IN ('deployment', 'rollback', 'incident_started') AND coalesce(f[6], '') = ''
                THEN t.subject || '.' || t.predicate || ' needs subject.content.environment.id'
            WHEN kind IS NULL THEN NULL
            WHEN f[11] IS NOT NULL AND (NOT regexp_matches(f[11], rfc3339) OR TRY_CAST(f[11] AS TIMESTAMPTZ) IS NULL)
                THEN 'customData.started_at is not an RFC 3339 timestamp with an offset'
            WHEN f[13] IS NOT NULL AND (NOT regexp_matches(f[13], rfc3339) OR TRY_CAST(f[13] AS TIMESTAMPTZ) IS NULL)
                THEN 'customData.first_commit_at is not an RFC 3339 timestamp with an offset'
            WHEN f[14] IS NOT NULL AND (NOT regexp_matches(f[14], rfc3339) OR TRY_CAST(f[14] AS TIMESTAMPTZ) IS NULL)
                THEN 'customData.opened_at is not an RFC 3339 timestamp with an offset'
            WHEN f[15] IS NOT NULL AND (NOT regexp_matches(f[15], rfc3339) OR TRY_CAST(f[15] AS TIMESTAMPTZ) IS NULL)
                THEN 'customData.first_review_at is not an RFC 3339 timestamp with an offset'
            WHEN f[16] IS NOT NULL AND (NOT regexp_matches(f[16], rfc3339) OR TRY_CAST(f[16] AS TIMESTAMPTZ) IS NULL)
                THEN 'customData.merged_at is not an RFC 3339 timestamp with an offset'
            WHEN changes_type IS NOT NULL AND changes_type NOT IN ('ARRAY', 'NULL')
                THEN 'customData.changes is not a list of change ids'
            WHEN unplanned_type IS NOT NULL AND unplanned_type NOT IN ('BOOLEAN', 'NULL')
                THEN 'customData.unplanned is not true or false'
            WHEN additions_type IS NOT NULL AND additions_type NOT IN ('UBIGINT', 'BIGINT', 'NULL')
                THEN 'customData.additions is not a whole number'
            WHEN deletions_type IS NOT NULL AND deletions_type NOT IN ('UBIGINT', 'BIGINT', 'NULL')
                THEN 'customData.deletions is not a whole number'
        END AS reason
    FROM classified
)
SELECT
    file, line_no, raw, reason, kind,
    f[2] AS source,
    f[1] AS event_id,
    f[3] AS event_type,
    t.predicate AS predicate,
    TRY_CAST(f[4] AS TIMESTAMPTZ) AS occurred_at,
    f[5] AS subject_id,
    CASE WHEN kind IN ('deployment', 'rollback') THEN f[5] ELSE coalesce(f[7], f[26]) END AS service,
    f[6] AS environment,
    CASE WHEN kind = 'deployment' THEN coalesce(f[8], f[1]) END AS deployment_id,
    f[9] AS commit_sha,
    coalesce(f[10], f[27]) AS repository,
    CASE WHEN changes_type = 'ARRAY' THEN TRY_CAST(changes_json AS VARCHAR[]) END AS change_ids,
    TRY_CAST(f[11] AS TIMESTAMPTZ) AS started_at,
    CASE WHEN unplanned_type = 'BOOLEAN' THEN json_extract_string(ev, '$.customData.unplanned')::BOOLEAN END AS unplanned,
    f[12] AS rolled_back_deployment,
    TRY_CAST(f[13] AS TIMESTAMPTZ) AS first_commit_at,
    TRY_CAST(f[14] AS TIMESTAMPTZ) AS opened_at,
    TRY_CAST(f[15] AS TIMESTAMPTZ) AS first_review_at,
    CASE WHEN kind = 'change_merged' THEN coalesce(TRY_CAST(f[16] AS TIMESTAMPTZ), TRY_CAST(f[4] AS TIMESTAMPTZ)) END AS merged_at,
    TRY_CAST(json_extract_string(ev, '$.customData.additions') AS BIGINT) AS additions,
    TRY_CAST(json_extract_string(ev, '$.customData.deletions') AS BIGINT) AS deletions,
    f[17] AS author,
    f[18] AS title,
    f[19] AS severity,
    f[20] AS caused_by_deployment,
    f[21] AS caused_by_commit,
    f[22] AS pipeline_name,
    f[23] AS task_name,
    f[24] AS pipeline_run_id,
    f[25] AS outcome,
    custom_data
FROM checked
