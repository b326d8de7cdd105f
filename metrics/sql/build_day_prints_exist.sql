-- build_day_prints_exist: whether the warehouse holds the last build's day fingerprints of the facts
-- (build_day_prints_create): true or false, one row.
SELECT count(*) > 0 FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'build_day_prints'
