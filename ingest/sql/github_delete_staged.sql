-- github_delete_staged: the staged rows of the raw events a page brings again (the registered table
-- gh_batch: source, event_id, …), before they are staged anew from the current payloads. GitHub
-- data changes after the fact, so a key read again replaces its rows (docs/github.md).
DELETE FROM stg_events s USING gh_batch b WHERE s.source = b.source AND s.event_id = b.event_id
