-- story_caught_days: failed production deployments on each local day ($timezone) of the windows of a
-- comparison, and how many of them were caught in rollout (recovered before the rollout reached
-- 100%: fct_failures.caught_in_rollout, definitions version 2). Grain: one row per window and day
-- with a failed deployment (the day of the deployment's finish). $windows and $services as in
-- compare_days ($services NULL = every service).
WITH windows AS (
    SELECT unnest($windows::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                   first_day DATE, last_day DATE)[], recursive := true)
)
SELECT w.name                                              AS window_name,
    local_day(f.finished_at, $timezone)                     AS day,
    count(*)                                                AS failed_deployments,
    count(*) FILTER (WHERE f.caught_in_rollout)             AS caught_in_rollout
FROM fct_failures f
JOIN windows w ON f.finished_at >= w.start_at AND f.finished_at < w.end_at
WHERE f.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], f.service))
GROUP BY ALL
