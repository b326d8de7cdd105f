-- fct_changes: one row per change (pull request) that landed, from change.merged events.
-- Grain: change_id. If a change was reported more than once, the latest report wins, field by field
-- (the latest non-empty value of each). lead_started_at is where its lead time starts: the earliest of
-- first commit, opened and merged (contract §2; a rebased or amended branch can carry a first commit
-- dated after the merge, and then the pull request's opening, or the merge, is the start). A
-- first_commit_at after merged_at is also a data-quality finding (dq_findings).
CREATE OR REPLACE TABLE fct_changes AS
WITH events AS (
    SELECT subject_id, occurred_at, repository, merged_at, first_commit_at, opened_at, first_review_at,
           commit_sha, additions, deletions, author, title
    FROM stg_events
    WHERE kind = 'change_merged'
),
-- Speed: almost every change is reported once, and then that report is the change. Only the ids
-- reported more than once go through the latest-value aggregates, which cost ten times more.
repeated AS (
    SELECT subject_id FROM events GROUP BY subject_id HAVING count(*) > 1
),
changes AS (
    SELECT * EXCLUDE (occurred_at) FROM events ANTI JOIN repeated USING (subject_id)
    UNION ALL
    SELECT
        subject_id,
        arg_max(repository, occurred_at), arg_max(merged_at, occurred_at),
        arg_max(first_commit_at, occurred_at), arg_max(opened_at, occurred_at),
        arg_max(first_review_at, occurred_at), arg_max(commit_sha, occurred_at),
        arg_max(additions, occurred_at), arg_max(deletions, occurred_at),
        arg_max(author, occurred_at), arg_max(title, occurred_at)
    FROM events SEMI JOIN repeated USING (subject_id)
    GROUP BY subject_id
)
SELECT
    subject_id                                                             AS change_id,
    -- `acme/payments#123` names its repository when the event does not
    CASE WHEN repository IS NOT NULL THEN repository
         ELSE nullif(regexp_extract(subject_id, '^(.+)#[^#]*$', 1), '') END AS repository,
    merged_at,
    first_commit_at,
    opened_at,
    first_review_at,
    commit_sha,
    additions,
    deletions,
    author,
    title,
    -- least() skips a missing timestamp; a tie names the field earliest in the change's life
    least(first_commit_at, opened_at, merged_at)                           AS lead_started_at,
    CASE WHEN first_commit_at = lead_started_at THEN 'first_commit_at'
         WHEN opened_at = lead_started_at THEN 'opened_at'
         ELSE 'merged_at' END                                              AS lead_start_field
FROM changes;
