-- compare_survey: the survey responses in each window of a before/after comparison.
-- Grain: one row per response whose date lies in a window (dates inclusive; survey dates have no
-- time of day). $service NULL = every team; else the team of that name. `respondent` is the person
-- (team and respondent id): one person's answers move together, so the person is the unit.
SELECT CASE WHEN response_date BETWEEN $before_start AND $before_end THEN 'before' ELSE 'after' END AS window_name,
    score, scale_min, scale_max,
    (score - scale_min) / (scale_max - scale_min) AS score_share,
    team || '/' || respondent                     AS respondent
FROM survey_responses
WHERE (response_date BETWEEN $before_start AND $before_end OR response_date BETWEEN $after_start AND $after_end)
  AND ($service IS NULL OR team = $service)
