-- list_teams: the teams with any survey response, by name. Grain: one row per team.
SELECT DISTINCT team FROM survey_responses ORDER BY 1
