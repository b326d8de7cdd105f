-- compare_service_spans: each service's first and last instant with data: its staged events (any
-- environment) and the merges into the repositories its deployments came from. A scope of services
-- (a service, a team) spans from the earliest of their firsts to the latest of their lasts — the min
-- and max of a union are the min and max of its parts' — so one read serves every scope
-- (metrics.compare.data_span: the dashboard's picks, an export's --by listing, read once for all).
-- Grain: one row per service with an event or a merge; instants, not days (compare_span_days turns a
-- scope's into days, as compare_span does the organisation's: the day of the earliest instant, not
-- the earliest day).
WITH events AS (
    SELECT service, min(occurred_at) AS first_at, max(occurred_at) AS last_at
    FROM stg_events
    WHERE service IS NOT NULL
    GROUP BY service
),
merges AS (
    SELECT r.service, min(c.first_at) AS first_at, max(c.last_at) AS last_at
    FROM (SELECT DISTINCT service, repository FROM fct_deployments WHERE service IS NOT NULL) r
    JOIN (SELECT repository, min(merged_at) AS first_at, max(merged_at) AS last_at
          FROM fct_changes
          GROUP BY repository) c ON c.repository = r.repository
    GROUP BY r.service
)
SELECT service,
       min(first_at) AS first_at,  -- TIMESTAMPTZ
       max(last_at)  AS last_at    -- TIMESTAMPTZ
FROM (SELECT * FROM events UNION ALL SELECT * FROM merges)
GROUP BY service
