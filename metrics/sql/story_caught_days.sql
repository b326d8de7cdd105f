-- story_caught_days: failed production deployments on each local day ($timezone) of the two windows
-- of a comparison, and how many of them were caught in rollout (recovered before the rollout reached
-- 100%: fct_failures.caught_in_rollout, definitions version 2). Grain: one row per window and day
-- with a failed deployment (the day of the deployment's finish). $service NULL = every service.
SELECT window_name,
    local_day(finished_at, $timezone)                       AS day,
    count(*)                                                AS failed_deployments,
    count(*) FILTER (WHERE caught_in_rollout)               AS caught_in_rollout
FROM (
    SELECT finished_at, caught_in_rollout,
        CASE WHEN finished_at >= $before_start_at AND finished_at < $before_end_at THEN 'before'
             WHEN finished_at >= $after_start_at AND finished_at < $after_end_at THEN 'after' END AS window_name
    FROM fct_failures
    WHERE environment = $environment AND ($service IS NULL OR service = $service)
)
WHERE window_name IS NOT NULL
GROUP BY ALL
