-- The data-quality findings (dq_findings) of a dashboard view, newest first within each finding:
-- one finding ($finding) or all (NULL), the newest $per_finding of each or all of them (NULL).
-- Findings without an environment or a time belong to every view; those without a service show
-- when the view names no services. Grain: one row per finding × record.
SELECT finding, entity_type, entity_id, service, environment, occurred_at, detail
FROM dq_findings
WHERE (environment IS NULL OR environment = $environment)
  AND ($finding IS NULL OR finding = $finding)
  AND ($services IS NULL OR list_contains($services, service))
  AND ($from_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) >= $from_date)
  AND ($to_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) <= $to_date)
QUALIFY $per_finding IS NULL
     OR row_number() OVER (PARTITION BY finding ORDER BY occurred_at DESC NULLS LAST, entity_id) <= $per_finding
ORDER BY finding, occurred_at DESC NULLS LAST, entity_id
