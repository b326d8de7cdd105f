-- Each change's lead-time breakdown spans (fct_change_stages) in a dashboard view, for the distribution
-- chart: a reproducible random sample of $limit changes (ordered by a hash of the id).
-- Grain: one row per change delivered in the view's days.
-- $max_key (or NULL): an upper bound on the sampled hashes, which are uniform over 64 bits, chosen
-- (dashboard/data.py) so that a few times $limit rows pass it: the top-$limit sort then orders those
-- instead of every change (3M at 1M deployments: 1.2 s -> 0.4 s). The sample is the same whenever at
-- least $limit rows pass; the caller reads again without the bound when fewer do.
SELECT change_id, service, delivered_at, coding_hours, pickup_hours, review_hours, deploy_wait_hours
FROM fct_change_stages
WHERE environment = $environment
  AND ($services IS NULL OR list_contains($services, service))
  AND ($from_date IS NULL OR local_day(delivered_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR local_day(delivered_at, $timezone) <= $to_date)
  AND ($max_key IS NULL OR hash(change_id) <= $max_key)
ORDER BY hash(change_id)
LIMIT $limit
