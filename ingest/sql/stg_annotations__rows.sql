-- stg_annotations__rows: the rows of one annotations CSV (registered as `annotation_rows`), typed
-- and validated. Grain: one row per data line of the file. `reason` is NULL for a valid row, else why
-- it is rejected (the first problem found). An empty service means the whole organisation.
-- Parameter: $max_name, the longest name allowed (ingest/annotations.py MAX_NAME).
WITH typed AS (
    SELECT
        file, line_no, raw, field_count, header_count, parse_error,
        trim(date)                                                                  AS date_text,
        CASE WHEN regexp_full_match(trim(date), '\d{4}-\d{2}-\d{2}') THEN try_cast(trim(date) AS DATE) END
                                                                                    AS starts_on,
        trim(name)                                                                  AS name,
        nullif(trim(service), '')                                                   AS service,
        nullif(trim(description), '')                                               AS description
    FROM annotation_rows
),
validated AS (
    SELECT file, line_no, raw, starts_on, name, service, description,
        CASE
            WHEN parse_error IS NOT NULL THEN parse_error
            WHEN field_count <> header_count
                THEN 'has ' || field_count || ' fields, the header has ' || header_count
            WHEN coalesce(date_text, '') = '' THEN 'date is empty'
            WHEN starts_on IS NULL THEN 'date "' || date_text || '" is not a date (YYYY-MM-DD)'
            WHEN coalesce(name, '') = '' THEN 'name is empty'
            WHEN length(name) > $max_name THEN 'name is longer than ' || $max_name || ' characters'
            -- a name that is all digits would be taken for an id by `dora annotate remove`
            WHEN regexp_full_match(name, '\d+') THEN 'name "' || name || '" is only digits; use words'
        END AS reason
    FROM typed
)
SELECT
    file, line_no, raw, starts_on, name, service, description,
    -- a name names one annotation per service: a second valid one in the same file is ambiguous
    coalesce(reason, CASE WHEN row_number() OVER w > 1
        THEN 'repeats the name and service of line ' || min(line_no) OVER w END) AS reason
FROM validated
WINDOW w AS (PARTITION BY name, service, reason IS NULL ORDER BY line_no
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
