-- survey_create_changes: the temp table survey_changes, the valid rows of a survey file (the view
-- parsed_rows, registered by the caller) that are not already stored exactly so: new answers, and
-- answers whose score or scale a later export corrects. Grain: one row per (date, team, respondent).
CREATE OR REPLACE TEMP TABLE survey_changes AS
SELECT p.* FROM parsed_rows p
WHERE p.reason IS NULL
  AND NOT EXISTS (SELECT 1 FROM survey_responses s
                  WHERE s.response_date = p.response_date AND s.team = p.team
                    AND s.respondent = p.respondent AND s.score = p.score
                    AND s.scale_min = p.scale_min AND s.scale_max = p.scale_max)
