-- classify_levels(level_tiers, figures): each DORA metric of each period's figures classified against
-- the DORA reports' performance levels (elite / high / medium / low), each metric on its own, for
-- every report of `level_tiers`; and scored 0-10 the way DORA's Quick Check scores an answer, beside
-- its 2025 all-industries mean. The one home of the level rules: metric_levels.sql classifies the
-- stored periods of each service with it, metrics/levels.py a team's figures (team_summary.sql) when
-- read — so a team is placed exactly as a service with the same figures would be.
-- level_tiers: metrics/registry.py LEVEL_TIERS as a LIST of STRUCTs (bound by the caller).
-- figures: a LIST of STRUCTs with metric_periods' columns: grain, period_start, service, environment,
-- days (calendar days of the period), deployments, failed_deployments, deploys_per_day,
-- lead_time_median_hours, changes_deployed, change_failure_rate,
-- failed_deployment_recovery_median_minutes, failed_deployment_recoveries,
-- incident_recovery_median_minutes, incidents_resolved, rework_rate.
-- Grain of the result: (report, grain, period_start, service, environment, metric).
--
-- How a measured value becomes a level:
-- 1. Deployment frequency, lead time and the two recovery times are mapped onto DORA's survey answer
--    buckets, coded 1 (worst) .. 6 (best); a month is 31 days and six months 184 days, the longest
--    calendar spans, so "once a month" holds in every month.
-- 2. Each report gives every level a range of those answers per metric. The level is the one whose
--    range holds the bucket; when several levels share it (2024: high and medium both recover in
--    "less than one day"; 2023: medium and low deploy and lead alike) the best of them; when none
--    does, the nearest, ties going to the lower level (a level is earned by reaching its range).
-- 3. Change fail rate: the reports give one typical rate per level, not a range, and in 2024 the
--    rates are not ordered (high 20% is worse than medium 10%). A rate takes the level whose typical
--    rate is nearest (ties: the lower level), so 2024 reads 0-7.5% elite, 7.5-15% medium, 15-30% high,
--    over 30% low. Deployment rework rate has no levels in either report: score only.
CREATE OR REPLACE MACRO classify_levels(level_tiers, figures) AS TABLE
WITH tiers AS (
    -- the reports' level tables, bound from metrics/registry.py (LEVEL_TIERS), their one home
    SELECT t.report, t.scale AS tier_metric, t.level, t.rank AS tier_rank,
        t.answer_low AS bucket_low, t.answer_high AS bucket_high, t.typical_percent
    FROM (SELECT unnest(level_tiers::STRUCT(report VARCHAR, scale VARCHAR, level VARCHAR, rank INTEGER,
                                             answer_low INTEGER, answer_high INTEGER,
                                             typical_percent INTEGER)[]) AS t)
),
-- the level of every (report, metric, bucket): a 2 x 3 x 6 lookup, so the big join below is an
-- equality join and never a search over levels per row
bucket_levels AS (
    SELECT report, tier_metric, bucket,
        arg_min(level, (distance, CASE WHEN distance = 0 THEN tier_rank ELSE -tier_rank END)) AS level,
        CASE count(*) FILTER (WHERE distance = 0) WHEN 1 THEN 'in_range' WHEN 0 THEN 'nearest_range'
             ELSE 'shared_range_best' END                                               AS level_rule
    FROM (
        SELECT t.report, t.tier_metric, t.level, t.tier_rank, b.bucket,
            CASE WHEN b.bucket < t.bucket_low THEN t.bucket_low - b.bucket
                 WHEN b.bucket > t.bucket_high THEN b.bucket - t.bucket_high ELSE 0 END AS distance
        FROM tiers t CROSS JOIN range(1, 7) b(bucket)
        WHERE t.bucket_low IS NOT NULL
    )
    GROUP BY ALL
),
-- change fail rate: per report, its levels' typical rates; each period takes the nearest (below)
rate_tiers AS (
    SELECT report, list({'percent': typical_percent, 'neg_rank': -tier_rank, 'level': level}) AS tiers
    FROM tiers
    WHERE tier_metric = 'change_failure_rate'
    GROUP BY report
),
-- one row per figure and metric
measured AS (
    SELECT grain, period_start, service, environment, deployments, failed_deployments,
        unnest([
            {'metric': 'deployment_frequency', 'tier_metric': 'deployment_frequency',
             'value': deploys_per_day::DOUBLE, 'unit': 'deploys/day', 'sample_size': deployments,
             -- deployments per calendar day, compared as whole numbers: 1 in a 31-day month is monthly
             'bucket': CASE WHEN deployments >= 2 * days THEN 6 WHEN deployments >= days THEN 5
                            WHEN 7 * deployments >= days THEN 4 WHEN 31 * deployments >= days THEN 3
                            WHEN 184 * deployments >= days THEN 2 ELSE 1 END},
            {'metric': 'lead_time', 'tier_metric': 'lead_time',
             'value': lead_time_median_hours, 'unit': 'hours', 'sample_size': changes_deployed, 'bucket': NULL},
            {'metric': 'change_failure_rate', 'tier_metric': 'change_failure_rate',
             'value': change_failure_rate, 'unit': 'share', 'sample_size': deployments, 'bucket': NULL},
            {'metric': 'failed_deployment_recovery_time', 'tier_metric': 'recovery',
             'value': failed_deployment_recovery_median_minutes, 'unit': 'minutes',
             'sample_size': failed_deployment_recoveries, 'bucket': NULL},
            {'metric': 'incident_recovery_time', 'tier_metric': 'recovery',
             'value': incident_recovery_median_minutes, 'unit': 'minutes', 'sample_size': incidents_resolved, 'bucket': NULL},
            {'metric': 'deployment_rework_rate', 'tier_metric': NULL,
             'value': rework_rate, 'unit': 'share', 'sample_size': deployments, 'bucket': NULL}
        ], recursive := true)
    FROM (SELECT unnest(figures, recursive := true))
),
-- a duration's answer: less than an hour, a day, a week, a month (31 days), six months (184 days), or
-- more; compared in the value's own unit (hours or minutes), so every threshold is a whole number
bucketed AS (
    SELECT * EXCLUDE (bucket, per_hour),
        CASE WHEN per_hour IS NULL OR value IS NULL THEN bucket
             WHEN value < per_hour THEN 6 WHEN value < 24 * per_hour THEN 5
             WHEN value < 7 * 24 * per_hour THEN 4 WHEN value < 31 * 24 * per_hour THEN 3
             WHEN value < 184 * 24 * per_hour THEN 2 ELSE 1 END AS bucket
    FROM (SELECT *, CASE unit WHEN 'hours' THEN 1 WHEN 'minutes' THEN 60 END AS per_hour FROM measured)
),
-- DORA's Quick Check 2025 benchmark means for all industries, on its 0-10 scale; the two rates'
-- raw means (1.9 and 2.2, i.e. about 19% and 22%) turned into scores: 10 - raw
benchmarks(metric, benchmark_2025_score) AS (
    VALUES ('deployment_frequency', 4.8::DOUBLE), ('lead_time', 5.5::DOUBLE),
           ('failed_deployment_recovery_time', 7.4::DOUBLE), ('incident_recovery_time', 7.4::DOUBLE),
           ('change_failure_rate', 10 - 1.9::DOUBLE), ('deployment_rework_rate', 10 - 2.2::DOUBLE)
),
answers(tier_metric, bucket, survey_answer_text) AS (
    VALUES
    ('deployment_frequency', 1, 'fewer than once per six months'),
    ('deployment_frequency', 2, 'once per month to once per six months'),
    ('deployment_frequency', 3, 'once per week to once per month'),
    ('deployment_frequency', 4, 'once per day to once per week'),
    ('deployment_frequency', 5, 'once per hour to once per day'),
    ('deployment_frequency', 6, 'on demand (multiple deploys per day)'),
    ('lead_time', 1, 'more than six months'), ('lead_time', 2, 'one to six months'),
    ('lead_time', 3, 'one week to one month'), ('lead_time', 4, 'one day to one week'),
    ('lead_time', 5, 'less than one day'), ('lead_time', 6, 'less than one hour'),
    ('recovery', 1, 'more than six months'), ('recovery', 2, 'one to six months'),
    ('recovery', 3, 'one week to one month'), ('recovery', 4, 'one day to one week'),
    ('recovery', 5, 'less than one day'), ('recovery', 6, 'less than one hour')
),
reports AS (
    SELECT DISTINCT report FROM tiers
)
SELECT
    r.report, v.grain, v.period_start, v.service, v.environment, v.metric,
    v.value,                                                     -- the period's figure (unit below)
    v.unit,
    v.sample_size,                                               -- deployments, changes or recoveries behind it
    v.bucket                                                     AS survey_answer,       -- 1..6, NULL for rates
    a.survey_answer_text,
    CASE WHEN v.metric = 'change_failure_rate' AND v.deployments > 0
         -- the nearest typical rate in whole numbers (|100 failed - percent x deployments|), so exact
         -- midpoints tie exactly; a tie sorts the lower level (larger rank) first
         THEN list_sort(list_transform(rt.tiers, lambda t: {
                  'distance': abs(100 * v.failed_deployments - t.percent * v.deployments),
                  'neg_rank': t.neg_rank, 'level': t.level}))[1].level
         ELSE bl.level END                                       AS level,
    CASE WHEN v.metric = 'change_failure_rate' AND v.deployments > 0 THEN 'nearest_typical_rate'
         WHEN v.metric = 'deployment_rework_rate' THEN 'no_levels'
         ELSE bl.level_rule END                                  AS level_rule,
    -- Quick Check: answers 1..6 map linearly onto 0..10; a rate of 0% scores 10 and 100% scores 0
    CASE WHEN v.bucket IS NOT NULL THEN (v.bucket - 1) * 2.0::DOUBLE
         WHEN v.unit = 'share' AND v.value IS NOT NULL THEN 10 * (1 - v.value) END AS quickcheck_score,
    b.benchmark_2025_score,
    quickcheck_score - b.benchmark_2025_score                    AS score_vs_benchmark   -- > 0: better
FROM bucketed v
CROSS JOIN reports r
JOIN benchmarks b USING (metric)
JOIN rate_tiers rt ON rt.report = r.report
LEFT JOIN answers a ON a.tier_metric = v.tier_metric AND a.bucket = v.bucket
LEFT JOIN bucket_levels bl ON bl.report = r.report AND bl.tier_metric = v.tier_metric AND bl.bucket = v.bucket
