-- annotations_exist: whether the database has the annotations table (a read-only snapshot of a
-- warehouse no write has touched since annotations existed has not). Grain: one row, a count (0 or 1).
SELECT count(*) FROM information_schema.tables WHERE table_name = 'annotations'
