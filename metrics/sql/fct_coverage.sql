-- fct_coverage: the days the warehouse covers (contract §2 "Coverage and observed days"), in the
-- $timezone time zone. Grain: one row; none when no event is stored — then there are no periods at
-- all, never an empty row for every period of the calendar.
-- From the day of the earliest staged event to the day of the latest one. A source synced from an
-- API ($api_origins, metrics.build.API_ORIGINS: GitHub) covers up to its last successful sync: the
-- quiet days it was synced through are observed (nothing happened), not unknown. An origin counts
-- only once it has stored events; a failed run covers nothing.
CREATE OR REPLACE TABLE fct_coverage AS
WITH origins AS (
    SELECT origin, min(occurred_at) AS first_event_at, max(occurred_at) AS last_event_at
    FROM stg_events
    GROUP BY origin
),
syncs AS (
    SELECT origin, max(finished_at) AS synced_at
    FROM ingest_runs
    WHERE list_contains($api_origins::VARCHAR[], origin) AND outcome <> 'failed'
    GROUP BY origin
)
SELECT
    local_day(min(o.first_event_at), $timezone)                                   AS first_day,  -- DATE, first covered day
    local_day(greatest(max(o.last_event_at), max(s.synced_at)), $timezone)        AS last_day,   -- DATE, last covered day
    min(o.first_event_at)                                                         AS first_event_at,
    max(o.last_event_at)                                                          AS last_event_at,
    max(s.synced_at)                                                              AS synced_at   -- last successful API sync
FROM origins o
LEFT JOIN syncs s USING (origin)
HAVING count(*) > 0;
