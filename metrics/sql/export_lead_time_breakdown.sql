-- export_lead_time_breakdown: `dora export --table lead-time-breakdown`, one row per period (and per
-- service): the four stages of lead time side by side, beside the lead time itself.
-- Grain: (period_start, service) for $grain and $environment. Every period from the first to the last
-- with a delivered change appears (clipped to $from_date..$to_date), empty ones with 0 changes and empty
-- statistics; none at all without a delivered change (never a row for every period of the calendar).
-- $services: the services to list (NULL = the organisation as 'all').
WITH bounds AS (
    SELECT
        greatest(min(period_start), period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)) AS first_period,
        least(max(period_start), coalesce($to_date::DATE, DATE '9999-12-31'))                              AS last_period
    FROM metric_lead_time_breakdown
    WHERE grain = $grain AND environment = $environment
    HAVING count(*) > 0  -- else min() is NULL and greatest()/least() would span the calendar
),
periods AS (
    SELECT unnest(generate_series(first_period::TIMESTAMP, last_period::TIMESTAMP,
        period_interval($grain)))::DATE AS period_start
    FROM bounds
    WHERE first_period <= last_period
),
services AS (
    SELECT unnest(coalesce($services, ['all'])) AS service
),
wide AS (
    PIVOT (SELECT period_start, service, stage, changes, missing, negative, median_hours, p75_hours,
                  p90_hours, mean_hours
           FROM metric_lead_time_breakdown WHERE grain = $grain AND environment = $environment)
    ON stage IN ('coding', 'pickup', 'review', 'deploy_wait')
    USING first(changes) AS changes, first(median_hours) AS median_hours, first(p75_hours) AS p75_hours,
          first(p90_hours) AS p90_hours, first(mean_hours) AS mean_hours, first(missing) AS missing,
          first(negative) AS negative
)
SELECT
    p.period_start,
    s.service,
    coalesce(m.changes_deployed, 0)              AS changes_deployed,
    round(m.lead_time_median_hours, 6)           AS lead_time_median_hours,
    coalesce(w.coding_changes, 0)                AS coding_changes,
    round(w.coding_median_hours, 6)              AS coding_median_hours,
    round(w.coding_p75_hours, 6)                 AS coding_p75_hours,
    round(w.coding_p90_hours, 6)                 AS coding_p90_hours,
    round(w.coding_mean_hours, 6)                AS coding_mean_hours,
    coalesce(w.pickup_changes, 0)                AS pickup_changes,
    round(w.pickup_median_hours, 6)              AS pickup_median_hours,
    round(w.pickup_p75_hours, 6)                 AS pickup_p75_hours,
    round(w.pickup_p90_hours, 6)                 AS pickup_p90_hours,
    round(w.pickup_mean_hours, 6)                AS pickup_mean_hours,
    coalesce(w.review_changes, 0)                AS review_changes,
    round(w.review_median_hours, 6)              AS review_median_hours,
    round(w.review_p75_hours, 6)                 AS review_p75_hours,
    round(w.review_p90_hours, 6)                 AS review_p90_hours,
    round(w.review_mean_hours, 6)                AS review_mean_hours,
    coalesce(w.deploy_wait_changes, 0)           AS deploy_wait_changes,
    round(w.deploy_wait_median_hours, 6)         AS deploy_wait_median_hours,
    round(w.deploy_wait_p75_hours, 6)            AS deploy_wait_p75_hours,
    round(w.deploy_wait_p90_hours, 6)            AS deploy_wait_p90_hours,
    round(w.deploy_wait_mean_hours, 6)           AS deploy_wait_mean_hours,
    coalesce(w.coding_missing, 0) + coalesce(w.pickup_missing, 0) + coalesce(w.review_missing, 0)
        + coalesce(w.deploy_wait_missing, 0)     AS spans_missing,
    coalesce(w.coding_negative, 0) + coalesce(w.pickup_negative, 0) + coalesce(w.review_negative, 0)
        + coalesce(w.deploy_wait_negative, 0)    AS spans_negative,
    $environment                                 AS environment,
    $grain                                       AS grain,
    $timezone                                    AS time_zone,
    $definitions_version                         AS definitions_version
FROM periods p
CROSS JOIN services s
LEFT JOIN wide w ON w.period_start = p.period_start AND w.service = s.service
LEFT JOIN metric_periods m
  ON m.grain = $grain AND m.period_start = p.period_start AND m.service = s.service AND m.environment = $environment
ORDER BY p.period_start, s.service = 'all' DESC, s.service;
