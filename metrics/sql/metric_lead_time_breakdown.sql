-- metric_lead_time_breakdown: the lead-time breakdown (coding, pickup, review, deploy wait) per period.
-- Grain: (grain, period_start, service, environment, stage); grain in day / week (ISO, Monday) /
-- month / quarter in the $timezone time zone; service 'all' is every service together. Like lead
-- time (metric_periods), a change belongs to the period of the finish of the first deployment in the
-- environment that shipped it. Per stage: the changes with that span known and ≥ 0 (`changes`), their
-- interpolated median, p75, p90 and mean in hours; `missing` counts changes of the group without the
-- span, `negative` those with a negative span (left out of the statistics; dq_findings lists them).
-- Only groups with at least one delivered change appear, each with all four stages.
CREATE OR REPLACE TABLE metric_lead_time_breakdown AS
WITH spans AS (
    SELECT local_day(delivered_at, $timezone) AS day,
        service, environment,
        CASE WHEN coding_hours >= 0 THEN coding_hours END                 AS coding_ok,
        coalesce(coding_hours < 0, false)                                 AS coding_bad,
        CASE WHEN pickup_hours >= 0 THEN pickup_hours END                 AS pickup_ok,
        coalesce(pickup_hours < 0, false)                                 AS pickup_bad,
        CASE WHEN review_hours >= 0 THEN review_hours END                 AS review_ok,
        coalesce(review_hours < 0, false)                                 AS review_bad,
        CASE WHEN deploy_wait_hours >= 0 THEN deploy_wait_hours END       AS deploy_wait_ok,
        coalesce(deploy_wait_hours < 0, false)                            AS deploy_wait_bad
    FROM fct_change_stages
),
periods AS (
    SELECT period_start_of(day, 'week') AS week, period_start_of(day, 'month') AS month,
        period_start_of(day, 'quarter') AS quarter, *
    FROM spans
),
-- one pass, four stages side by side, every grain and service level as a grouping set: far cheaper
-- than unpivoting or copying rows per grain first (3M changes × 8 groupings). Negative spans are
-- nulled first rather than FILTERed in each aggregate: a third less CPU.
-- Quantiles: each group's values are collected with list(), which DuckDB spills to disk under its
-- memory cap, then quantile_cont runs over the one list (list_aggregate): the same interpolation.
-- quantile_cont as the group's aggregate keeps every group's values in memory at once, which DuckDB
-- cannot spill (2.5 GB at 1M deployments; docs/performance.md, "Memory").
wide AS (
    SELECT
        grouped_grain(grouping(day), grouping(week), grouping(month))              AS grain,
        coalesce(day, week, month, quarter)                                        AS period_start,
        CASE WHEN grouping(service) = 0 THEN service ELSE 'all' END                AS service,
        environment,
        count(*)                                                                   AS delivered,
        count(coding_ok)                                                           AS coding_n,
        count_if(coding_bad)                                                       AS coding_neg,
        list_aggregate(list(coding_ok) FILTER (WHERE coding_ok IS NOT NULL),
                       'quantile_cont', [0.5, 0.75, 0.9])                          AS coding_q,
        avg(coding_ok)                                                             AS coding_mean,
        count(pickup_ok)                                                           AS pickup_n,
        count_if(pickup_bad)                                                       AS pickup_neg,
        list_aggregate(list(pickup_ok) FILTER (WHERE pickup_ok IS NOT NULL),
                       'quantile_cont', [0.5, 0.75, 0.9])                          AS pickup_q,
        avg(pickup_ok)                                                             AS pickup_mean,
        count(review_ok)                                                           AS review_n,
        count_if(review_bad)                                                       AS review_neg,
        list_aggregate(list(review_ok) FILTER (WHERE review_ok IS NOT NULL),
                       'quantile_cont', [0.5, 0.75, 0.9])                          AS review_q,
        avg(review_ok)                                                             AS review_mean,
        count(deploy_wait_ok)                                                      AS deploy_wait_n,
        count_if(deploy_wait_bad)                                                  AS deploy_wait_neg,
        list_aggregate(list(deploy_wait_ok) FILTER (WHERE deploy_wait_ok IS NOT NULL),
                       'quantile_cont', [0.5, 0.75, 0.9])                          AS deploy_wait_q,
        avg(deploy_wait_ok)                                                        AS deploy_wait_mean
    FROM periods
    GROUP BY GROUPING SETS (
        (day, service, environment), (day, environment), (week, service, environment), (week, environment),
        (month, service, environment), (month, environment), (quarter, service, environment),
        (quarter, environment))
),
long AS (
    SELECT grain, period_start, service, environment, delivered,
        unnest([1, 2, 3, 4])                                                       AS stage_order,
        unnest(['coding', 'pickup', 'review', 'deploy_wait'])                      AS stage,
        unnest([coding_n, pickup_n, review_n, deploy_wait_n])                      AS changes,
        unnest([coding_neg, pickup_neg, review_neg, deploy_wait_neg])              AS negative,
        unnest([coding_q, pickup_q, review_q, deploy_wait_q])                      AS q,
        unnest([coding_mean, pickup_mean, review_mean, deploy_wait_mean])          AS mean_hours
    FROM wide
)
SELECT
    grain, period_start, service, environment,
    stage,                                                    -- coding / pickup / review / deploy_wait
    stage_order,                                              -- 1..4, the order the stages happen in
    changes,                                                  -- changes with the span known and ≥ 0
    delivered - changes - negative      AS missing,           -- changes without the span (an end unknown)
    negative,                                                 -- changes with a negative span: left out
    q[1]                                AS median_hours,      -- interpolated median
    q[2]                                AS p75_hours,
    q[3]                                AS p90_hours,
    mean_hours
FROM long;
