-- Each change's lead-time breakdown spans (fct_change_stages) in a dashboard view, for the distribution
-- chart: a reproducible random sample of $limit changes (ordered by a hash of the id).
-- Grain: one row per change delivered in the view's days.
SELECT change_id, service, delivered_at, coding_hours, pickup_hours, review_hours, deploy_wait_hours
FROM fct_change_stages
WHERE environment = $environment
  AND ($services IS NULL OR list_contains($services, service))
  AND ($from_date IS NULL OR local_day(delivered_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(delivered_at, $timezone) <= $to_date)
ORDER BY hash(change_id)
LIMIT $limit
