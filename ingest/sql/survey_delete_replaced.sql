-- survey_delete_replaced: the stored answers that survey_changes replaces (same date, team and
-- respondent), removed before survey_insert_changes. Grain: one row per replaced answer.
DELETE FROM survey_responses s USING survey_changes c
WHERE s.response_date = c.response_date AND s.team = c.team AND s.respondent = c.respondent
