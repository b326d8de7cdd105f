-- story_caught_by_day: failed production deployments on each local day (in the configured time
-- zone) of the windows of a comparison, and how many of them were caught in rollout (recovered
-- before the rollout reached 100%: fct_failures.caught_in_rollout, definitions version 2). Grain:
-- one row per window and day with a failed deployment (the day of the deployment's finish).
-- $segments and $services as in compare_days (the day from the offset of the window's piece, as
-- there; $services NULL = every service).
WITH segments AS (
    SELECT unnest($segments::STRUCT(name VARCHAR, start_at TIMESTAMPTZ, end_at TIMESTAMPTZ,
                                    offset_us BIGINT)[], recursive := true)
)
SELECT w.name                                              AS window_name,
    make_timestamp(epoch_us(f.finished_at) + w.offset_us)::DATE AS day,
    count(*)                                                AS failed_deployments,
    count(*) FILTER (WHERE f.caught_in_rollout)             AS caught_in_rollout
FROM fct_failures f
JOIN segments w ON f.finished_at >= w.start_at AND f.finished_at < w.end_at
WHERE f.environment = $environment
  AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], f.service))
GROUP BY ALL
