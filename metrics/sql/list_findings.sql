-- list_findings: every data-quality finding row, for CSV, earliest first within each finding.
-- Grain: one row per dq_findings row (finding, entity_type, entity_id, service, environment,
-- occurred_at, detail).
SELECT * FROM dq_findings ORDER BY finding, occurred_at NULLS LAST, entity_id
