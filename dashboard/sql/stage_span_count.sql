-- How many changes of a dashboard view have breakdown spans (the population stage_spans.sql samples).
-- Grain: one row.
SELECT count(*) AS changes
FROM fct_change_stages
WHERE environment = $environment
  AND ($services IS NULL OR list_contains($services, service))
  AND ($from_date IS NULL OR local_day(delivered_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(delivered_at, $timezone) <= $to_date)
