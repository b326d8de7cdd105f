-- How many developer-satisfaction survey answers are loaded. Grain: one row.
SELECT count(*) AS responses
FROM survey_responses
