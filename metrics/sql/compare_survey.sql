-- compare_survey: the survey responses in each window of a before/after comparison (or story).
-- Grain: one row per response whose date lies in a window ($windows, first_day..last_day inclusive;
-- survey dates have no time of day). $survey_team NULL = every team; else the team of that name (a
-- team compared, or the survey team named as the service compared). `respondent` is the person
-- (team and respondent id): one person's answers move together, so the person is the unit.
WITH windows AS (
    SELECT unnest($windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                   first_day DATE, last_day DATE)[], recursive := true)
)
SELECT w.name AS window_name,
    r.score, r.scale_min, r.scale_max,
    (r.score - r.scale_min) / (r.scale_max - r.scale_min) AS score_share,
    r.team || '/' || r.respondent                         AS respondent
FROM survey_responses r
JOIN windows w ON r.response_date BETWEEN w.first_day AND w.last_day
WHERE $survey_team::VARCHAR IS NULL OR r.team = $survey_team::VARCHAR
