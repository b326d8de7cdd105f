-- fct_change_stages: the lead-time breakdown of every change, per environment it reached.
-- Grain: (change_id, environment), like fct_lead_times (changes with a change.merged event only).
-- Four consecutive spans, in hours (docs/metrics.md, "Lead-time breakdown"):
--   coding_hours       lead time's start (the earliest of first commit, opened, merged) → pull
--                      request opened; unknown without a first commit
--   pickup_hours       opened → first review
--   review_hours       first review → merged
--   deploy_wait_hours  merged → finish of the first deployment in this environment that shipped it
-- A span is NULL when either end is unknown: the change counts only in the stages it has. Coding
-- starts where lead time starts, so a first commit dated after the opening (a rebased branch) makes
-- coding 0, not negative, and the four spans of a change with every timestamp add up to its lead time.
-- A negative span is kept here as it is (a data-quality finding); metric models leave it out.
CREATE OR REPLACE TABLE fct_change_stages AS
SELECT
    l.change_id,
    l.environment,
    l.service,
    l.deployment_key,
    l.delivered_at,
    c.lead_started_at,
    c.first_commit_at,
    c.opened_at,
    c.first_review_at,
    c.merged_at,
    -- epoch arithmetic, not date_diff: the same span (to the millisecond) at a fraction of the cost
    CASE WHEN c.first_commit_at IS NOT NULL
         THEN (epoch(c.opened_at) - epoch(c.lead_started_at)) / 3600.0 END AS coding_hours,
    (epoch(c.first_review_at) - epoch(c.opened_at)) / 3600.0           AS pickup_hours,
    (epoch(c.merged_at) - epoch(c.first_review_at)) / 3600.0           AS review_hours,
    (epoch(l.delivered_at) - epoch(c.merged_at)) / 3600.0              AS deploy_wait_hours
FROM fct_lead_times l
JOIN fct_changes c USING (change_id);
