-- metric_pipeline: pipeline health per period: run and stage durations, CI time against the
-- budget, stage failure rates and what became of the runs a stage stopped.
-- Grain: (grain, period_start, service, stage); stage '(run)' is the run as a whole, any other value
-- a stage name from the data. A run, and every stage of it, belongs to the period of the run's start
-- (its finish if no start was seen) in $timezone; service 'all' is every service together (a run
-- naming no service counts only there). Durations in minutes; p50 is the interpolated median;
-- negative durations are left out (dq_findings lists them). docs/metrics.md, "Pipeline health".
CREATE OR REPLACE TABLE metric_pipeline AS
WITH grains AS (
    SELECT unnest($grains::VARCHAR[]) AS grain  -- metrics.build.GRAINS
),
runs AS (
    SELECT g.grain,
        period_start_of(local_day(coalesce(r.started_at, r.finished_at), $timezone), g.grain) AS period_start,
        unnest([r.service, 'all'])                                        AS service,
        r.*  EXCLUDE (service)
    FROM fct_pipeline_runs r
    CROSS JOIN grains g
    WHERE coalesce(r.started_at, r.finished_at) IS NOT NULL
),
run_stats AS (
    SELECT grain, period_start, service, '(run)' AS stage,
        count(*)                                                          AS executions,
        count(outcome)                                                    AS finished,
        count(*) FILTER (WHERE outcome = 'success')                       AS succeeded,
        count(*) FILTER (WHERE outcome IN ('failure', 'error'))           AS failed,
        count(*) FILTER (WHERE outcome = 'cancel')                        AS cancelled,
        count(duration_minutes) FILTER (WHERE duration_minutes >= 0)      AS timed,
        quantile_cont(duration_minutes, [0.5, 0.9]) FILTER (WHERE duration_minutes >= 0) AS duration_q,
        avg(duration_minutes) FILTER (WHERE duration_minutes >= 0)        AS duration_mean_minutes,
        count(ci_minutes) FILTER (WHERE ci_minutes >= 0)                  AS ci_runs,
        count(*) FILTER (WHERE ci_minutes > $ci_budget_minutes)           AS ci_over_budget,
        quantile_cont(ci_minutes, [0.5, 0.9]) FILTER (WHERE ci_minutes >= 0) AS ci_q,
        count(*) FILTER (WHERE stopped)                                   AS stops,
        count(*) FILTER (WHERE stop_outcome = 'never_deployed')           AS stops_never_deployed,
        count(*) FILTER (WHERE stop_outcome = 'deployed_later_ok')        AS stops_deployed_later_ok,
        count(*) FILTER (WHERE stop_outcome = 'deployed_later_failed')    AS stops_deployed_later_failed,
        count(*) FILTER (WHERE stop_outcome = 'caught_in_rollout')        AS stops_caught_in_rollout,
        count(*) FILTER (WHERE stop_outcome = 'commit_unknown')           AS stops_commit_unknown
    FROM runs
    WHERE service IS NOT NULL
    GROUP BY ALL
),
stages AS (
    SELECT r.grain, r.period_start, r.service, s.stage, s.outcome, s.duration_minutes,
        r.stopped_stage IS NOT DISTINCT FROM s.stage AND r.stopped AS stopped_here,
        r.stop_outcome
    FROM runs r
    JOIN fct_stage_runs s USING (run_id)
    WHERE r.service IS NOT NULL AND s.stage IS NOT NULL
),
stage_stats AS (
    SELECT grain, period_start, service, stage,
        count(*)                                                          AS executions,
        count(outcome)                                                    AS finished,
        count(*) FILTER (WHERE outcome = 'success')                       AS succeeded,
        count(*) FILTER (WHERE outcome IN ('failure', 'error'))           AS failed,
        count(*) FILTER (WHERE outcome = 'cancel')                        AS cancelled,
        count(duration_minutes) FILTER (WHERE duration_minutes >= 0)      AS timed,
        quantile_cont(duration_minutes, [0.5, 0.9]) FILTER (WHERE duration_minutes >= 0) AS duration_q,
        avg(duration_minutes) FILTER (WHERE duration_minutes >= 0)        AS duration_mean_minutes,
        NULL::BIGINT AS ci_runs, NULL::BIGINT AS ci_over_budget, NULL::DOUBLE[] AS ci_q,
        count(*) FILTER (WHERE stopped_here)                              AS stops,
        count(*) FILTER (WHERE stopped_here AND stop_outcome = 'never_deployed')        AS stops_never_deployed,
        count(*) FILTER (WHERE stopped_here AND stop_outcome = 'deployed_later_ok')     AS stops_deployed_later_ok,
        count(*) FILTER (WHERE stopped_here AND stop_outcome = 'deployed_later_failed') AS stops_deployed_later_failed,
        count(*) FILTER (WHERE stopped_here AND stop_outcome = 'caught_in_rollout')     AS stops_caught_in_rollout,
        count(*) FILTER (WHERE stopped_here AND stop_outcome = 'commit_unknown')        AS stops_commit_unknown
    FROM stages
    GROUP BY ALL
),
stage_order AS (
    -- where a stage usually runs, for display: its median start offset from the run's start
    SELECT s.stage, quantile_cont(date_diff('second', r.started_at, s.started_at), 0.5) AS offset_seconds
    FROM fct_stage_runs s JOIN fct_pipeline_runs r USING (run_id)
    WHERE s.stage IS NOT NULL
    GROUP BY s.stage
),
combined AS (
    SELECT * FROM run_stats
    UNION ALL BY NAME
    SELECT * FROM stage_stats
)
SELECT
    c.grain, c.period_start, c.service,
    c.stage,                                                   -- '(run)' or a stage name
    CASE WHEN c.stage = '(run)' THEN 0
         ELSE dense_rank() OVER (ORDER BY o.offset_seconds NULLS LAST, c.stage) END AS stage_order,
    c.executions,                                              -- runs (or stage runs) in the period
    c.finished,                                                -- with a finish event and outcome
    c.succeeded, c.failed, c.cancelled,
    c.failed / nullif(c.finished, 0)                           AS failure_rate,
    c.timed,                                                   -- with a duration ≥ 0
    c.duration_q[1]                                            AS duration_p50_minutes,
    c.duration_q[2]                                            AS duration_p90_minutes,
    c.duration_mean_minutes,
    c.ci_runs,                                                 -- runs whose CI part was measured
    c.ci_over_budget,                                          -- of those, CI time > $ci_budget_minutes
    c.ci_over_budget / nullif(c.ci_runs, 0)                    AS ci_over_budget_share,
    c.ci_q[1]                                                  AS ci_p50_minutes,
    c.ci_q[2]                                                  AS ci_p90_minutes,
    $ci_budget_minutes::DOUBLE                                 AS ci_budget_minutes,
    c.stops,                                                   -- failed runs this stage stopped
    c.stops_never_deployed,                                    -- … whose commit never reached production
    c.stops_deployed_later_ok,
    c.stops_deployed_later_failed,
    c.stops_caught_in_rollout,                                 -- … deployed, failed, caught before 100%
    c.stops_commit_unknown,
    c.stops_never_deployed / nullif(c.stops - c.stops_commit_unknown, 0) AS stops_prevented_share
FROM combined c
LEFT JOIN stage_order o USING (stage);
