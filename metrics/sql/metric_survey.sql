-- metric_survey: developer satisfaction per period, per team and for everyone ('all').
-- Grain: (grain, period_start, team, scale_min, scale_max); grain in day / week (ISO, Monday) /
-- month / quarter. A response belongs to the period of its date (a calendar date: no time zone).
-- Answers on different scales are never averaged together: the scale is part of the grain, and
-- satisfaction_share puts every scale on 0..1 ((score - min) / (max - min)) for comparisons.
CREATE OR REPLACE TABLE metric_survey AS
WITH grains AS (
    SELECT unnest($grains::VARCHAR[]) AS grain  -- metrics.build.GRAINS
),
responses AS (
    SELECT g.grain,
        period_start_of(r.response_date, g.grain) AS period_start,
        unnest([r.team, 'all'])                    AS team,
        r.team AS own_team, r.respondent, r.score, r.scale_min, r.scale_max
    FROM survey_responses r
    CROSS JOIN grains g
)
SELECT
    grain, period_start, team, scale_min, scale_max,
    count(*)                                                      AS responses,       -- answers
    count(DISTINCT (own_team, respondent))                        AS respondents,     -- people answering
    avg(score)                                                    AS satisfaction_mean,  -- on the scale
    stddev_samp(score)                                            AS satisfaction_sd,    -- NULL for 1 answer
    quantile_cont(score, 0.5)                                     AS satisfaction_median,
    avg((score - scale_min) / (scale_max - scale_min))            AS satisfaction_share  -- 0..1
FROM responses
GROUP BY ALL
