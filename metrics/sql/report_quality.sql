-- report_quality: `dora quality`, the data-quality findings with a count and the first $examples of
-- each (earliest first). Grain: (finding, entity_id) for the listed examples; `findings` repeats the
-- finding's total on each of its rows. $finding: only that finding (NULL = all).
SELECT finding, entity_type, findings, entity_id, service, environment, occurred_at, detail
FROM (
    SELECT *,
        count(*) OVER (PARTITION BY finding)                                          AS findings,
        row_number() OVER (PARTITION BY finding ORDER BY occurred_at NULLS LAST, length(entity_id), entity_id) AS rn
    FROM dq_findings
    WHERE $finding::VARCHAR IS NULL OR finding = $finding
)
WHERE rn <= $examples
ORDER BY findings DESC, finding, rn;
