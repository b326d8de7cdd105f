-- schema_marker: says "this DuckDB file is a dora warehouse", so `dora` never writes into another
-- program's file (ingest.warehouse.open_warehouse checks it before creating the schema). Created
-- with the schema, idempotently. Grain: one row.
CREATE TABLE IF NOT EXISTS dora_warehouse AS
SELECT 'dora-pipeline' AS product,   -- who owns the file
       1               AS marker_version;
