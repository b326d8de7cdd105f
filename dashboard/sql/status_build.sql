-- When the facts and metrics were last built, and the settings they were built with (build_info).
-- Grain: build_info's one row (none before the first build).
SELECT built_at,
       settings::VARCHAR AS settings  -- MetricSettings as JSON
FROM build_info
