-- goal_ci_minutes: the median CI time of pipeline runs per period and team, for the ci_minutes goal.
-- Grain: (period_start, team) for one $grain; only periods with a timed run. A run belongs to the
-- period of its start (its finish if no start was seen), in $timezone, as metric_pipeline's runs;
-- its CI time is fct_pipeline_runs.ci_minutes (negative ones left out: a data error).
-- $mapping: the teams as a list of {service, team}; a run of a service no team names is in 'no
-- team'; NULL: every run together as 'all' (a run naming no service counts only there).
WITH mapping AS (
    SELECT unnest(coalesce($mapping, [])::STRUCT(service VARCHAR, team VARCHAR)[], recursive := true)
)
SELECT
    period_start_of(local_day(coalesce(r.started_at, r.finished_at), $timezone), $grain) AS period_start,
    CASE WHEN $mapping IS NULL THEN 'all' ELSE coalesce(t.team, 'no team') END            AS team,
    count(*)                                                                              AS ci_runs,
    median(r.ci_minutes)                                                                  AS ci_minutes_median
FROM fct_pipeline_runs r
LEFT JOIN mapping t ON t.service = r.service
WHERE r.ci_minutes >= 0 AND coalesce(r.started_at, r.finished_at) IS NOT NULL
  AND ($mapping IS NULL OR r.service IS NOT NULL)
GROUP BY ALL
ORDER BY period_start, team
