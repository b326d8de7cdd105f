-- fct_changes: one row per change (pull request) that landed, from change.merged events.
-- Grain: change_id. If a change was reported more than once, the latest report wins.
-- lead_started_at is where its lead time starts: first commit, else opened, else merged.
CREATE OR REPLACE TABLE fct_changes AS
SELECT
    subject_id                                                             AS change_id,
    -- `acme/payments#123` names its repository when the event does not
    coalesce(arg_max(repository, occurred_at),
             nullif(regexp_extract(subject_id, '^(.+)#[^#]*$', 1), ''))    AS repository,
    arg_max(merged_at, occurred_at)                                        AS merged_at,
    arg_max(first_commit_at, occurred_at)                                  AS first_commit_at,
    arg_max(opened_at, occurred_at)                                        AS opened_at,
    arg_max(first_review_at, occurred_at)                                  AS first_review_at,
    arg_max(commit_sha, occurred_at)                                       AS commit_sha,
    arg_max(additions, occurred_at)                                        AS additions,
    arg_max(deletions, occurred_at)                                        AS deletions,
    arg_max(author, occurred_at)                                           AS author,
    arg_max(title, occurred_at)                                            AS title,
    coalesce(arg_max(first_commit_at, occurred_at), arg_max(opened_at, occurred_at),
             arg_max(merged_at, occurred_at))                              AS lead_started_at,
    CASE WHEN arg_max(first_commit_at, occurred_at) IS NOT NULL THEN 'first_commit_at'
         WHEN arg_max(opened_at, occurred_at) IS NOT NULL THEN 'opened_at'
         ELSE 'merged_at' END                                              AS lead_start_field
FROM stg_events
WHERE kind = 'change_merged'
GROUP BY subject_id;
