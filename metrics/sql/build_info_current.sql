-- build_info_current: the last build's settings fingerprint (JSON text), whether it saw every ingest
-- run since (failed runs left nothing to see) and whether the database holds the macros the models
-- and readers call, scalar or table macros (a file built before they existed does not). Grain: one row,
-- none before a build.
SELECT b.settings::VARCHAR                                                       AS settings,
    b.last_run_id IS NOT DISTINCT FROM (SELECT max(run_id) FROM ingest_runs WHERE outcome <> 'failed')
                                                                                 AS saw_every_run,
    (SELECT count(DISTINCT function_name) FROM duckdb_functions()
     WHERE function_type IN ('macro', 'table_macro') AND NOT internal AND list_contains($macros, function_name))
        = len($macros)                                                           AS has_macros
FROM build_info b
