-- export_pipeline: `dora export --table pipeline`, one row per period (and service) and stage
-- ('(run)' = whole runs first, then the stages in their usual order): run and stage durations,
-- failure rates, CI time against the budget, gate stops. Grain: (period_start, service, stage) for
-- $grain; pipelines have no environment. Only periods with a pipeline run.
SELECT
    period_start,
    service,
    stage,
    executions, finished, succeeded, failed, cancelled,
    round(failure_rate, 6)                  AS failure_rate,
    timed,
    round(duration_p50_minutes, 6)          AS duration_p50_minutes,
    round(duration_p90_minutes, 6)          AS duration_p90_minutes,
    round(duration_mean_minutes, 6)         AS duration_mean_minutes,
    ci_runs, ci_over_budget,
    round(ci_over_budget_share, 6)          AS ci_over_budget_share,
    round(ci_p50_minutes, 6)                AS ci_p50_minutes,
    round(ci_p90_minutes, 6)                AS ci_p90_minutes,
    ci_budget_minutes,
    stops, stops_never_deployed, stops_deployed_later_ok, stops_deployed_later_failed, stops_caught_in_rollout,
    stops_commit_unknown,
    round(stops_prevented_share, 6)         AS stops_prevented_share,
    $grain                                  AS grain,
    $timezone                               AS time_zone,
    $definitions_version                    AS definitions_version
FROM metric_pipeline
WHERE grain = $grain
  AND service IN (SELECT unnest(coalesce($services, ['all'])))
  AND period_start >= period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)
  AND period_start <= coalesce($to_date::DATE, DATE '9999-12-31')
ORDER BY period_start, service = 'all' DESC, service, stage_order, stage;
