-- The tables the read snapshot holds: which pages it can show and what a page must explain instead.
-- Grain: one row per table.
SELECT table_name
FROM duckdb_tables()
WHERE database_name = 'snapshot'
