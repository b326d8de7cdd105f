-- The data-quality findings (dq_findings) of a dashboard view, newest first within each finding:
-- one finding ($finding) or all (NULL), the newest $per_finding of each or all of them (NULL).
-- Findings without an environment or a time belong to every view; those without a service show
-- when the view names no services. Grain: one row per finding × record.
-- With $per_finding, each finding's rows older than its $per_finding-th newest time are dropped before
-- the rows are numbered: they cannot be among the newest (ties and rows without a time stay when they
-- might be), and numbering only the rest spares sorting every finding (586,000 at 1M deployments).
WITH kept AS (
    SELECT finding, entity_type, entity_id, service, environment, occurred_at, detail
    FROM dq_findings
    WHERE (environment IS NULL OR environment = $environment)
      AND ($finding IS NULL OR finding = $finding)
      AND ($services IS NULL OR list_contains($services, service))
      AND ($from_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) >= $from_date)
      AND ($to_date IS NULL OR occurred_at IS NULL OR local_day(occurred_at, $timezone) <= $to_date)
),
oldest AS (  -- per finding, the $per_finding-th newest time (NULL: fewer rows with a time than that)
    SELECT finding,
           CASE WHEN count(occurred_at) >= $per_finding
                THEN list_min(max(occurred_at, coalesce($per_finding, 1))) END AS oldest_kept
    FROM kept
    GROUP BY finding
)
SELECT k.finding, k.entity_type, k.entity_id, k.service, k.environment, k.occurred_at, k.detail
FROM kept k
LEFT JOIN oldest o ON o.finding = k.finding
WHERE $per_finding IS NULL OR o.oldest_kept IS NULL OR k.occurred_at >= o.oldest_kept
QUALIFY $per_finding IS NULL
     OR row_number() OVER (PARTITION BY k.finding ORDER BY k.occurred_at DESC NULLS LAST, k.entity_id) <= $per_finding
ORDER BY k.finding, k.occurred_at DESC NULLS LAST, k.entity_id
