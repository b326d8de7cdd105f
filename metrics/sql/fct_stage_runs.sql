-- fct_stage_runs: one row per stage (CDEvents task run) of a pipeline run, from taskrun events.
-- Grain: stage_run_id (the task run's subject.id). Stage names come from the data (taskName):
-- build, test, staging, canary-5, rollout-25, ... whatever the pipelines call them.
-- started_at: the earliest `started` event; finished_at and outcome: the latest `finished` event.
-- outcome is lower-cased: success / failure / error / cancel (CDEvents), NULL if never finished.
CREATE OR REPLACE TABLE fct_stage_runs AS
SELECT
    subject_id                                                                      AS stage_run_id,
    arg_max(pipeline_run_id, occurred_at) FILTER (WHERE pipeline_run_id IS NOT NULL) AS run_id,
    arg_max(task_name, occurred_at) FILTER (WHERE task_name IS NOT NULL)            AS stage,
    min(occurred_at) FILTER (WHERE predicate = 'started')                           AS started_at,
    max(occurred_at) FILTER (WHERE predicate = 'finished')                          AS finished_at,
    lower(arg_max(outcome, occurred_at) FILTER (WHERE predicate = 'finished'))      AS outcome,
    (epoch(max(occurred_at) FILTER (WHERE predicate = 'finished'))
     - epoch(min(occurred_at) FILTER (WHERE predicate = 'started'))) / 60.0        AS duration_minutes
FROM stg_events
WHERE kind = 'taskrun'
GROUP BY subject_id;
