-- build_inputs_create: the table where a build records how many staged rows of each kind it saw
-- (build_inputs_record), so the next run can tell which kinds changed since (build_changed_inputs).
-- Grain: (origin, kind). Created empty in a warehouse that predates it: every kind then counts as
-- changed, so the first build after an upgrade rebuilds every model that reads staged rows.
CREATE TABLE IF NOT EXISTS build_inputs (
    origin  VARCHAR,
    kind    VARCHAR,
    staged  BIGINT   -- stg_events rows of this origin and kind when the build ran
)
