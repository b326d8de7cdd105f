-- stg_survey__rows: the rows of one survey CSV (registered as `survey_rows`), typed and validated.
-- Grain: one row per data line of the file. `reason` is NULL for a valid row, else why it is
-- rejected (the first problem found). $default_scale is `--scale` (e.g. '1-5') for files without a
-- scale column, else NULL.
WITH typed AS (
    SELECT
        file, line_no, raw, field_count, header_count, parse_error,
        trim(date)                                                          AS date_text,
        trim(team)                                                          AS team,
        trim(respondent)                                                    AS respondent,
        trim(score)                                                         AS score_text,
        trim(coalesce(nullif(trim(scale), ''), $default_scale))             AS scale_text,
        CASE WHEN regexp_full_match(trim(date), '\d{4}-\d{2}-\d{2}') THEN try_cast(trim(date) AS DATE) END
                                                                            AS response_date,
        try_cast(trim(score) AS DOUBLE)                                     AS score,
        -- a scale is LOW-HIGH: '1-5', '0-10', '1–7' (en dash) or '1..5'
        regexp_extract(trim(coalesce(nullif(trim(scale), ''), $default_scale)),
                       '^(\d+(?:\.\d+)?)\s*(?:-|–|\.\.)\s*(\d+(?:\.\d+)?)$', ['lo', 'hi']) AS scale_parts
    FROM survey_rows
),
checked AS (
    SELECT *,
        try_cast(nullif(scale_parts.lo, '') AS DOUBLE) AS scale_min,
        try_cast(nullif(scale_parts.hi, '') AS DOUBLE) AS scale_max
    FROM typed
),
validated AS (
    SELECT
        file, line_no, raw, response_date, team, respondent, score, scale_min, scale_max,
        CASE
            WHEN parse_error IS NOT NULL THEN parse_error
            WHEN field_count <> header_count
                THEN 'has ' || field_count || ' fields, the header has ' || header_count
            WHEN coalesce(date_text, '') = '' THEN 'date is empty'
            WHEN response_date IS NULL THEN 'date "' || date_text || '" is not a date (YYYY-MM-DD)'
            WHEN coalesce(team, '') = '' THEN 'team is empty'
            WHEN coalesce(respondent, '') = '' THEN 'respondent is empty'
            WHEN coalesce(scale_text, '') = '' THEN 'scale is empty (e.g. 1-5)'
            WHEN scale_min IS NULL THEN 'scale "' || scale_text || '" is not LOW-HIGH (e.g. 1-5)'
            WHEN scale_min >= scale_max THEN 'scale "' || scale_text || '" must go from low to high (e.g. 1-5)'
            WHEN coalesce(score_text, '') = '' THEN 'score is empty'
            WHEN score IS NULL OR NOT isfinite(score) THEN 'score "' || score_text || '" is not a number'
            WHEN score < scale_min OR score > scale_max
                THEN 'score ' || score_text || ' is outside the scale ' || scale_text
        END AS reason
    FROM checked
)
SELECT
    file, line_no, raw, response_date, team, respondent, score, scale_min, scale_max,
    -- one answer per date, team and respondent: a second valid one in the same file is ambiguous
    coalesce(reason, CASE WHEN row_number() OVER w > 1
        THEN 'repeats the date, team and respondent of line ' || min(line_no) OVER w END) AS reason
FROM validated
WINDOW w AS (PARTITION BY response_date, team, respondent, reason IS NULL ORDER BY line_no
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
