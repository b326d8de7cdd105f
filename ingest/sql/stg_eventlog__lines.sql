-- stg_eventlog__lines: one row per non-blank line of the event-log chunk in `chunk_lines` (a view
-- registered by the caller: file, line_no, raw, decode_error), parsed and validated in bulk.
-- `reason` is NULL for a valid CDEvent, else why the line is rejected, in plain words.
-- A structured CloudEvent is unwrapped to the CDEvent in its `data`. `kind` is NULL for event types
-- the metrics do not use (kept raw, ignored). Every timestamp is RFC 3339 with an offset, stored UTC.
-- Parameters (the plausible times, contract §1): $earliest_at, $latest_at (TIMESTAMPTZ: a time
-- before or after is rejected), $earliest_text, $latest_text (how the reasons name them).
-- Speed: every JSON function parses its whole input again, and each path costs on every line, so a
-- usual line is parsed twice (the strings we read; the customData members whose JSON type we check),
-- each with a list of paths. The rare lines that need more (a CloudEvent wrapper, no context.id,
-- not JSON, a timestamp not in the usual spelling) pay for it in CASE branches that only they enter.
WITH lines AS (
    -- trim() with a character list decodes the whole line: call it only where it can matter
    SELECT file, line_no, CASE WHEN ends_with(raw, chr(13)) THEN rtrim(raw, chr(13)) ELSE raw END AS raw, decode_error
    FROM chunk_lines
    WHERE CASE WHEN starts_with(raw, '{') THEN true ELSE trim(raw, chr(13) || chr(32) || chr(9)) <> '' END
),
unwrapped AS (
    SELECT *,
        -- CloudEvents structured mode: the whole CDEvent is the `data` member. A line without the
        -- text "data" (or any escape that could spell it) has no such member: no need to look.
        CASE WHEN decode_error OR starts_with(raw, '{"context":') THEN NULL
             WHEN contains(raw, '"data"') OR contains(raw, '\')
             THEN try(json_type(raw, ['$', '$.context', '$.data'])) END AS probe
    FROM lines
),
docs AS (
    SELECT *,
        coalesce(probe[1] = 'OBJECT' AND probe[2] IS NULL AND probe[3] = 'OBJECT', false) AS wrapped
    FROM unwrapped
),
events AS (
    SELECT file, line_no, raw, decode_error, wrapped,
        CASE WHEN wrapped THEN json_extract_string(raw, '$.data') ELSE raw END AS ev
    FROM docs
),
fields AS (
    SELECT *,
        -- NULL when the line is not valid JSON (the one error these functions raise)
        CASE WHEN NOT decode_error THEN try(json_extract_string(ev, [
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
            '$.customData.caused_by_change'                                                  -- 28
        ])) END AS f
    FROM events
),
members AS (
    SELECT *,
        f IS NOT NULL AS is_json,
        -- the customData members whose JSON type is checked, as JSON
        CASE WHEN f IS NOT NULL THEN json_extract(ev, [
            '$.customData.changes', '$.customData.unplanned',                                -- 1..2
            '$.customData.additions', '$.customData.deletions',                              -- 3..4
            '$.customData.traffic_percent'                                                   -- 5
        ]) END AS j,
        -- a context.id can only be read from an object in an object: look closer only without one
        CASE WHEN f IS NOT NULL AND f[1] IS NULL THEN json_type(ev, ['$', '$.context']) END AS shape
    FROM fields
),
typed AS (
    SELECT *,
        CASE WHEN f[1] IS NOT NULL THEN 'OBJECT' ELSE shape[1] END AS ev_type,
        CASE WHEN f[1] IS NOT NULL THEN 'OBJECT' ELSE shape[2] END AS context_type,
        json_type(j[1]) AS changes_type,
        json_type(j[2]) AS unplanned_type,
        json_type(j[3]) AS additions_type,
        json_type(j[4]) AS deletions_type,
        json_type(j[5]) AS traffic_type,
        -- the explicit causes an incident names (an empty string names none)
        list_filter([nullif(f[20], ''), nullif(f[28], ''), nullif(f[21], '')], lambda x: x IS NOT NULL) AS causes,
        regexp_extract(f[3], '^dev\.cdevents\.([a-z]+)\.([a-z]+)\.0\.[0-9]+\.[0-9]+', ['subject', 'predicate']) AS t,
        -- context.timestamp, started_at, first_commit_at, opened_at, first_review_at, merged_at
        [f[4], f[11], f[13], f[14], f[15], f[16]] AS tx,
        -- each as an instant, NULL unless RFC 3339 with an offset (a bare local time would be
        -- silently read as UTC) and a real instant (no 30 February). The GLOB is the usual spelling,
        -- cast as it is; anything else meets the grammar first, then is upper-cased (a `t` or `z` is
        -- valid RFC 3339, which DuckDB does not read), and a leap second :60 becomes the next second.
        -- Hour 24 (ISO 8601's end of day, which DuckDB reads) is not RFC 3339.
        list_transform([f[4], f[11], f[13], f[14], f[15], f[16]], lambda x:
            CASE WHEN x IS NULL THEN NULL
                 WHEN x GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9].[0-9][0-9][0-9]Z'
                 THEN CASE WHEN substr(x, 12, 2) < '24' THEN TRY_CAST(x AS TIMESTAMPTZ) END
                 WHEN NOT regexp_matches(x, '^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?([Zz]|[+-][0-9]{2}:[0-5][0-9])$')
                 THEN NULL
                 WHEN substr(x, 18, 2) = '60'
                 THEN TRY_CAST(upper(substr(x, 1, 17) || '59' || substr(x, 20)) AS TIMESTAMPTZ) + INTERVAL 1 SECOND
                 ELSE TRY_CAST(upper(x) AS TIMESTAMPTZ)
            END) AS ts
    FROM members
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
        END AS kind,
        CASE WHEN kind IN ('deployment', 'rollback') THEN f[5] ELSE coalesce(f[7], f[26]) END AS service,
        -- why each timestamp is not a plausible instant (NULL: absent or fine), e.g. a clock left
        -- at 1970 or a year typed 2099: such a line would skew every figure it touches
        list_transform(tx, lambda x, i:
            CASE WHEN x IS NULL THEN NULL
                 WHEN ts[i] IS NULL THEN 'is not an RFC 3339 timestamp with an offset'
                 WHEN substr(x, -6, 1) IN ('+', '-') AND substr(x, -5) > '14:00'
                 THEN 'has an offset beyond ±14:00, which no place on Earth uses'
                 WHEN ts[i] < $earliest_at THEN 'is before ' || $earliest_text || ': not a plausible time'
                 WHEN ts[i] > $latest_at THEN 'is more than ' || $latest_text || ': not a plausible time'
            END) AS ts_problem
    FROM typed
),
checked AS (
    SELECT *,
        CASE
            WHEN decode_error THEN 'not valid UTF-8'
            WHEN NOT is_json THEN 'not valid JSON'
            WHEN ev_type <> 'OBJECT' THEN 'not a CDEvent: the line is a JSON ' || CASE ev_type
                WHEN 'ARRAY' THEN 'array' WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'true or false'
                WHEN 'NULL' THEN 'null' ELSE 'number' END || ', not an object'
            WHEN context_type IS NULL THEN 'not a CDEvent: no "context" object'
            WHEN context_type <> 'OBJECT' THEN 'not a CDEvent: "context" is not an object'
            WHEN coalesce(f[1], '') = '' THEN 'not a CDEvent: missing context.id'
            WHEN coalesce(f[2], '') = '' THEN 'not a CDEvent: missing context.source'
            WHEN coalesce(f[3], '') = '' THEN 'not a CDEvent: missing context.type'
            WHEN NOT regexp_matches(f[3], '^dev\.cdevents(x)?\.[A-Za-z0-9_-]+\.') THEN 'not a CDEvent: context.type "' || f[3] || '" is not dev.cdevents.*'
            WHEN f[4] IS NULL THEN 'not a CDEvent: missing context.timestamp'
            WHEN ts_problem[1] IS NOT NULL THEN 'context.timestamp "' || f[4] || '" ' || ts_problem[1]
            WHEN kind IS NOT NULL AND coalesce(f[5], '') = '' THEN t.subject || '.' || t.predicate || ' needs subject.id'
            WHEN kind IN ('deployment', 'rollback', 'incident_started') AND coalesce(f[6], '') = ''
                THEN t.subject || '.' || t.predicate || ' needs subject.content.environment.id'
            WHEN kind IS NULL THEN NULL
            -- the name is the organisation's totals in every report: a service called so would vanish in them
            WHEN service = 'all' THEN 'the service name "all" is reserved for the totals of every service: '
                || CASE WHEN kind IN ('deployment', 'rollback') THEN 'subject.id'
                        WHEN f[7] IS NOT NULL THEN 'subject.content.service.id' ELSE 'customData.service' END
                || ' must name another service'
            WHEN ts_problem[2] IS NOT NULL THEN 'customData.started_at "' || f[11] || '" ' || ts_problem[2]
            WHEN ts_problem[3] IS NOT NULL THEN 'customData.first_commit_at "' || f[13] || '" ' || ts_problem[3]
            WHEN ts_problem[4] IS NOT NULL THEN 'customData.opened_at "' || f[14] || '" ' || ts_problem[4]
            WHEN ts_problem[5] IS NOT NULL THEN 'customData.first_review_at "' || f[15] || '" ' || ts_problem[5]
            WHEN ts_problem[6] IS NOT NULL THEN 'customData.merged_at "' || f[16] || '" ' || ts_problem[6]
            WHEN changes_type IS NOT NULL AND changes_type NOT IN ('ARRAY', 'NULL')
                THEN 'customData.changes is not a list of change ids'
            WHEN unplanned_type IS NOT NULL AND unplanned_type NOT IN ('BOOLEAN', 'NULL')
                THEN 'customData.unplanned is not true or false'
            WHEN additions_type IS NOT NULL AND additions_type NOT IN ('UBIGINT', 'BIGINT', 'NULL')
                THEN 'customData.additions is not a whole number'
            WHEN deletions_type IS NOT NULL AND deletions_type NOT IN ('UBIGINT', 'BIGINT', 'NULL')
                THEN 'customData.deletions is not a whole number'
            WHEN kind = 'deployment' AND traffic_type IS NOT NULL AND traffic_type <> 'NULL'
                 AND (traffic_type NOT IN ('UBIGINT', 'BIGINT', 'DOUBLE')
                      OR NOT TRY_CAST(j[5]::VARCHAR AS DOUBLE) BETWEEN 0 AND 100)
                THEN 'customData.traffic_percent is not a number from 0 to 100'
            WHEN kind LIKE 'incident_%' AND len(causes) > 1
                THEN 'an incident names at most one cause: customData has more than one of caused_by_deployment, caused_by_change, caused_by_commit'
        END AS reason
    FROM classified
)
SELECT
    file, line_no, raw, reason, kind,
    f[2] AS source,
    f[1] AS event_id,
    f[3] AS event_type,
    t.predicate AS predicate,
    ts[1] AS occurred_at,
    f[5] AS subject_id,
    service,
    f[6] AS environment,
    CASE WHEN kind = 'deployment' THEN coalesce(f[8], f[1]) END AS deployment_id,
    f[9] AS commit_sha,
    coalesce(f[10], f[27]) AS repository,
    CASE WHEN changes_type = 'ARRAY' THEN TRY_CAST(j[1] AS VARCHAR[]) END AS change_ids,
    ts[2] AS started_at,
    CASE WHEN unplanned_type = 'BOOLEAN' THEN j[2]::VARCHAR::BOOLEAN END AS unplanned,
    f[12] AS rolled_back_deployment,
    ts[3] AS first_commit_at,
    ts[4] AS opened_at,
    ts[5] AS first_review_at,
    CASE WHEN kind = 'change_merged' THEN coalesce(ts[6], ts[1]) END AS merged_at,
    -- a whole number (the only kind a loaded line has) is spelled the same in JSON and SQL
    TRY_CAST(j[3]::VARCHAR AS BIGINT) AS additions,
    TRY_CAST(j[4]::VARCHAR AS BIGINT) AS deletions,
    f[17] AS author,
    f[18] AS title,
    f[19] AS severity,
    -- an incident's explicit cause (on its start, or added by its resolution); '' names none
    CASE WHEN kind LIKE 'incident_%' THEN nullif(f[20], '') END AS caused_by_deployment,
    CASE WHEN kind LIKE 'incident_%' THEN nullif(f[21], '') END AS caused_by_commit,
    f[22] AS pipeline_name,
    f[23] AS task_name,
    f[24] AS pipeline_run_id,
    f[25] AS outcome,
    -- JSON null is absent: NULL, read as 100 (the whole environment)
    CASE WHEN kind = 'deployment' AND traffic_type IN ('UBIGINT', 'BIGINT', 'DOUBLE')
         THEN TRY_CAST(j[5]::VARCHAR AS DOUBLE) END AS traffic_percent,
    CASE WHEN kind LIKE 'incident_%' THEN nullif(f[28], '') END AS caused_by_change,
    CASE WHEN kind LIKE 'incident_%' AND len(causes) > 0 THEN 'event field' END AS cause_rule
FROM checked
