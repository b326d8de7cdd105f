-- list_user_tables: the tables and views a DuckDB file holds (its own catalog only, not the
-- system's), to tell an empty file, a dora warehouse and another program's file apart before
-- writing anything. Grain: one row per table or view.
SELECT table_name AS name FROM duckdb_tables() WHERE database_name = current_database()
UNION ALL
SELECT view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
ORDER BY name
