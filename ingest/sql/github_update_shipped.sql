-- github_update_shipped: what each staged deployment of $source shipped, as the linker computed it
-- (the registered table gh_links: event_id, shipped, hotfix). shipped_commits is NULL when unknown
-- (the merge-window rule applies); unplanned is true when it shipped a hotfix PR.
UPDATE stg_events SET shipped_commits = l.shipped, unplanned = l.hotfix
FROM gh_links l
WHERE stg_events.source = $source AND stg_events.kind = 'deployment' AND stg_events.event_id = l.event_id
