-- How many records each data-quality finding has in a dashboard view (the rows of findings.sql),
-- most frequent first. Grain: one row per finding.
SELECT finding, count(*) AS count
FROM dq_findings
WHERE (environment IS NULL OR environment = $environment)
  AND ($services IS NULL OR list_contains($services, service))
  AND ($from_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) <= $to_date)
GROUP BY finding
ORDER BY count DESC, finding
