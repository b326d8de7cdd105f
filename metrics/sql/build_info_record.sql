-- build_info_record: what this build was made from: the settings' fingerprint ($settings, JSON) and
-- the last ingest run whose data it saw (failed runs left nothing to see). Grain: one row.
INSERT INTO build_info
SELECT current_timestamp, $settings, (SELECT max(run_id) FROM ingest_runs WHERE outcome <> 'failed')
