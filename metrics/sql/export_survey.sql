-- export_survey: developer satisfaction per period for readers (`dora survey`).
-- Grain: (period_start, team, scale) for one $grain, periods clipped to $from_date..$to_date;
-- $teams: the teams to list (NULL = everyone together, 'all').
SELECT period_start, team, responses, respondents, satisfaction_mean, satisfaction_sd,
    satisfaction_median, satisfaction_share, scale_min, scale_max, grain
FROM metric_survey
WHERE grain = $grain
  AND team IN (SELECT unnest(coalesce($teams, ['all'])))
  AND period_start >= period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)
  AND period_start <= coalesce($to_date::DATE, DATE '9999-12-31')
ORDER BY period_start, team = 'all' DESC, team, scale_min, scale_max
