-- github_delete_raw: the raw rows of the keys a page brings again (the registered table gh_batch),
-- replaced by github_insert_raw. The result is the number deleted: the page's replaced keys.
DELETE FROM raw_events r USING gh_batch b WHERE r.source = b.source AND r.event_id = b.event_id
