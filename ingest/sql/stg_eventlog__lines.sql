-- stg_eventlog__lines: one row per non-blank line of the event-log chunk in `load_lines`,
-- parsed and validated in bulk. `reason` is NULL for a valid CDEvent, else why the line is rejected.
-- A structured CloudEvent is unwrapped to the CDEvent in its `data`. `kind` is NULL for event types
-- the metrics do not use (kept raw, ignored). Every timestamp is RFC 3339 with an offset, stored UTC.
-- Speed: every JSON function parses its input text again, so each line is parsed only three times
-- (valid?, the types of the members we check, the values of the members we read), each call with a
-- list of paths; a CloudEvent-wrapped line pays two more parses to get at its `data`.
WITH lines AS (
    -- trim() with a character list decodes the whole line: call it only where it can matter
    SELECT file, line_no, CASE WHEN ends_with(raw, chr(13)) THEN rtrim(raw, chr(13)) ELSE raw END AS raw, decode_error
    FROM load_lines
    WHERE starts_with(raw, '{') OR trim(raw, chr(13) || chr(32) || chr(9)) <> ''
),
probed AS (
    SELECT *,
        CASE WHEN NOT decode_error AND json_valid(raw) THEN json_type(raw, [
            '$', '$.context', '$.data', '$.data.context',                                    -- 1..4
            '$.customData', '$.customData.changes', '$.customData.unplanned',                -- 5..7
            '$.customData.additions', '$.customData.deletions',                              -- 8..9
            '$.data.customData', '$.data.customData.changes', '$.data.customData.unplanned', -- 10..12
            '$.data.customData.additions', '$.data.customData.deletions'                     -- 13..14
        ]) END AS ty
    FROM lines
),
unwrapped AS (
    SELECT *,
        -- CloudEvents structured mode: the whole CDEvent is the `data` member
        coalesce(ty[1] = 'OBJECT' AND ty[2] IS NULL AND ty[3] = 'OBJECT', false) AS wrapped
    FROM probed
),
fields AS (
    SELECT file, line_no, raw, decode_error, wrapped,
        ty IS NOT NULL                                     AS is_json,
        CASE WHEN wrapped THEN 'OBJECT' ELSE ty[1] END     AS ev_type,
        CASE WHEN wrapped THEN ty[4] ELSE ty[2] END        AS context_type,
        CASE WHEN wrapped THEN ty[10] ELSE ty[5] END       AS custom_type,
        CASE WHEN wrapped THEN ty[11] ELSE ty[6] END       AS changes_type,
        CASE WHEN wrapped THEN ty[12] ELSE ty[7] END       AS unplanned_type,
        CASE WHEN wrapped THEN ty[13] ELSE ty[8] END       AS additions_type,
        CASE WHEN wrapped THEN ty[14] ELSE ty[9] END       AS deletions_type,
        CASE WHEN ty IS NOT NULL THEN json_extract_string(
            CASE WHEN wrapped THEN json_extract_string(raw, '$.data') ELSE raw END, [
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
            '$.customData.service', '$.subject.content.repository.id',                       -- 26..27
            -- objects and lists come back as their JSON text, exactly as json_extract writes them
            '$.customData', '$.customData.changes', '$.customData.unplanned',                -- 28..30
            '$.customData.additions', '$.customData.deletions'                               -- 31..32
        ]) END AS f
    FROM unwrapped
),
typed AS (
    SELECT *,
        regexp_extract(f[3], '^dev\.cdevents\.([a-z]+)\.([a-z]+)\.0\.[0-9]+\.[0-9]+', ['subject', 'predicate']) AS t,
        -- RFC 3339 requires an offset; a bare local time would be silently read as UTC otherwise.
        -- Timestamps: context.timestamp, started_at, first_commit_at, opened_at, first_review_at, merged_at
        -- Absent is fine here; a missing context.timestamp is caught before.
        list_transform([f[4], f[11], f[13], f[14], f[15], f[16]], lambda x: x IS NULL OR (
            regexp_matches(x, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-9]{2})$')
            AND TRY_CAST(x AS TIMESTAMPTZ) IS NOT NULL)) AS ts_ok
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
            WHEN NOT is_json THEN 'not valid JSON'
            WHEN ev_type <> 'OBJECT' THEN 'not a CDEvent: the line is a JSON ' || lower(ev_type) || ', not an object'
            WHEN context_type IS NULL THEN 'not a CDEvent: no "context" object'
            WHEN context_type <> 'OBJECT' THEN 'not a CDEvent: "context" is not an object'
            WHEN coalesce(f[1], '') = '' THEN 'not a CDEvent: missing context.id'
            WHEN coalesce(f[2], '') = '' THEN 'not a CDEvent: missing context.source'
            WHEN coalesce(f[3], '') = '' THEN 'not a CDEvent: missing context.type'
            WHEN NOT regexp_matches(f[3], '^dev\.cdevents(x)?\.[A-Za-z0-9_-]+\.') THEN 'not a CDEvent: context.type "' || f[3] || '" is not dev.cdevents.*'
            WHEN f[4] IS NULL THEN 'not a CDEvent: missing context.timestamp'
            WHEN NOT ts_ok[1] THEN 'context.timestamp "' || f[4] || '" is not an RFC 3339 timestamp with an offset'
            WHEN kind IS NOT NULL AND coalesce(f[5], '') = '' THEN t.subject || '.' || t.predicate || ' needs subject.id'
            WHEN kind IN ('deployment', 'rollback', 'incident_started') AND coalesce(f[6], '') = ''
                THEN t.subject || '.' || t.predicate || ' needs subject.content.environment.id'
            WHEN kind IS NULL THEN NULL
            WHEN NOT ts_ok[2] THEN 'customData.started_at is not an RFC 3339 timestamp with an offset'
            WHEN NOT ts_ok[3] THEN 'customData.first_commit_at is not an RFC 3339 timestamp with an offset'
            WHEN NOT ts_ok[4] THEN 'customData.opened_at is not an RFC 3339 timestamp with an offset'
            WHEN NOT ts_ok[5] THEN 'customData.first_review_at is not an RFC 3339 timestamp with an offset'
            WHEN NOT ts_ok[6] THEN 'customData.merged_at is not an RFC 3339 timestamp with an offset'
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
    CASE WHEN changes_type = 'ARRAY' THEN TRY_CAST(f[29]::JSON AS VARCHAR[]) END AS change_ids,
    TRY_CAST(f[11] AS TIMESTAMPTZ) AS started_at,
    CASE WHEN unplanned_type = 'BOOLEAN' THEN f[30]::BOOLEAN END AS unplanned,
    f[12] AS rolled_back_deployment,
    TRY_CAST(f[13] AS TIMESTAMPTZ) AS first_commit_at,
    TRY_CAST(f[14] AS TIMESTAMPTZ) AS opened_at,
    TRY_CAST(f[15] AS TIMESTAMPTZ) AS first_review_at,
    CASE WHEN kind = 'change_merged' THEN coalesce(TRY_CAST(f[16] AS TIMESTAMPTZ), TRY_CAST(f[4] AS TIMESTAMPTZ)) END AS merged_at,
    TRY_CAST(f[31] AS BIGINT) AS additions,
    TRY_CAST(f[32] AS BIGINT) AS deletions,
    f[17] AS author,
    f[18] AS title,
    f[19] AS severity,
    f[20] AS caused_by_deployment,
    f[21] AS caused_by_commit,
    f[22] AS pipeline_name,
    f[23] AS task_name,
    f[24] AS pipeline_run_id,
    f[25] AS outcome,
    -- a scalar customData keeps its JSON spelling (a string stays quoted)
    CASE WHEN custom_type IN ('OBJECT', 'ARRAY') THEN f[28]::JSON
         WHEN custom_type IS NOT NULL
             THEN json_extract(CASE WHEN wrapped THEN json_extract_string(raw, '$.data') ELSE raw END, '$.customData')
    END AS custom_data
FROM checked
