-- The Incidents page's incidents over time: how many incidents of a dashboard view (its environment,
-- services and days) started in each $grain period (local days of $timezone, as metric_periods),
-- per severity (NULL: none stated). Grain: one row per (period_start, severity) with an incident.
SELECT period_start_of(local_day(i.started_at, $timezone), $grain) AS period_start,
       i.severity,
       count(*)                                                   AS incidents
FROM fct_incidents i
WHERE i.environment = $environment AND i.started_at IS NOT NULL
  AND ($services IS NULL OR list_contains($services, i.service))
  AND ($from_date IS NULL OR local_day(i.started_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(i.started_at, $timezone) <= $to_date)
GROUP BY ALL
ORDER BY period_start, severity
