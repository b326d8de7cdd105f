-- build_inputs_record: what this build read, per origin and kind of staged row (see
-- build_inputs_create). Grain: (origin, kind).
INSERT INTO build_inputs
SELECT origin, kind, count(*) FROM stg_events GROUP BY ALL
