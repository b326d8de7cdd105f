-- fct_pipeline_runs: one row per pipeline run, from pipelinerun events, with its CI time and, when
-- a stage stopped it, what became of the commit it built. Grain: run_id (the run's subject.id).
-- docs/metrics.md, "Pipeline health" and "Gate stops".
--   started_at / finished_at / outcome  earliest `started`, latest `finished` event (outcome lower-cased)
--   ci_minutes     run start → finish of its last CI stage ($ci_stages, case-insensitive); NULL
--                  without stage events for a CI stage: the CI part is then unknown
--   stopped_stage  for a failed run (failure / error): its earliest-starting failed stage; NULL if no
--                  stage event says which
--   stop_outcome   for a failed run: 'commit_unknown' (the run names no commit, customData.commit);
--                  'deployed_later_failed' / 'deployed_later_ok' (a production deployment of that
--                  commit, of the run's service if it names one, finished after the run started;
--                  the first such deployment failed / did not fail; 'caught_in_rollout' when it
--                  failed but was recovered before its rollout reached 100%: the later gate caught
--                  it); else 'never_deployed': the build the gate stopped never ran in production
--                  (a prevented failure)
CREATE OR REPLACE TABLE fct_pipeline_runs AS
WITH runs AS (
    SELECT
        subject_id                                                                   AS run_id,
        arg_max(pipeline_name, occurred_at) FILTER (WHERE pipeline_name IS NOT NULL) AS pipeline_name,
        arg_max(service, occurred_at) FILTER (WHERE service IS NOT NULL)             AS service,
        arg_max(commit_sha, occurred_at) FILTER (WHERE commit_sha IS NOT NULL)       AS commit_sha,
        min(occurred_at) FILTER (WHERE predicate = 'started')                        AS started_at,
        max(occurred_at) FILTER (WHERE predicate = 'finished')                       AS finished_at,
        lower(arg_max(outcome, occurred_at) FILTER (WHERE predicate = 'finished'))   AS outcome
    FROM stg_events
    WHERE kind = 'pipelinerun'
    GROUP BY subject_id
),
stages AS (
    SELECT run_id,
        count(*)                                                                     AS stage_count,
        max(finished_at) FILTER (WHERE list_contains($ci_stages, lower(stage)))      AS ci_finished_at,
        arg_min(stage, (started_at, stage)) FILTER (WHERE outcome IN ('failure', 'error')) AS stopped_stage
    FROM fct_stage_runs
    WHERE run_id IS NOT NULL
    GROUP BY run_id
),
later_deployment AS (
    SELECT r.run_id, d.deployment_key, f.deployment_key IS NOT NULL AS failed,
           coalesce(f.caught_in_rollout, false) AS caught_in_rollout
    FROM runs r
    JOIN fct_deployments d
      ON d.commit_sha = r.commit_sha AND d.environment = 'production'
     AND (r.service IS NULL OR d.service = r.service)
     AND d.finished_at >= coalesce(r.started_at, r.finished_at)
    LEFT JOIN fct_failures f USING (deployment_key)
    WHERE r.outcome IN ('failure', 'error')
    QUALIFY row_number() OVER (PARTITION BY r.run_id ORDER BY d.finished_at, d.service, d.deployment_id) = 1
)
SELECT
    r.run_id, r.pipeline_name, r.service, r.commit_sha, r.started_at, r.finished_at, r.outcome,
    (epoch(r.finished_at) - epoch(r.started_at)) / 60.0                     AS duration_minutes,
    coalesce(s.stage_count, 0)                                                  AS stage_count,
    (epoch(s.ci_finished_at) - epoch(r.started_at)) / 60.0                  AS ci_minutes,
    r.outcome IN ('failure', 'error')                                           AS stopped,
    CASE WHEN r.outcome IN ('failure', 'error') THEN s.stopped_stage END        AS stopped_stage,
    CASE WHEN r.outcome NOT IN ('failure', 'error') OR r.outcome IS NULL THEN NULL
         WHEN r.commit_sha IS NULL THEN 'commit_unknown'
         WHEN ld.failed AND ld.caught_in_rollout THEN 'caught_in_rollout'
         WHEN ld.failed THEN 'deployed_later_failed'
         WHEN ld.deployment_key IS NOT NULL THEN 'deployed_later_ok'
         ELSE 'never_deployed' END                                              AS stop_outcome,
    ld.deployment_key                                                           AS later_deployment_key
FROM runs r
LEFT JOIN stages s USING (run_id)
LEFT JOIN later_deployment ld USING (run_id);
