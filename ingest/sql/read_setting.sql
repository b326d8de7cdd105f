-- read_setting: the current value of one DuckDB setting, as text, to put it back after changing it
-- for a moment (or to copy it to a second connection). Grain: one row. Parameter: $name, e.g.
-- 'force_compression'.
SELECT value FROM duckdb_settings() WHERE name = $name
