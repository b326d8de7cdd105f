-- survey_insert_changes: the new and corrected answers (survey_changes) into survey_responses.
-- Grain: one row per (date, team, respondent). The result is the number stored. Parameter: $run_id.
INSERT INTO survey_responses (response_date, team, respondent, score, scale_min, scale_max,
                              ingest_run_id, file, line_no)
SELECT response_date, team, respondent, score, scale_min, scale_max, $run_id, file, line_no
FROM survey_changes
