-- export_quality: `dora export --table quality`, one row per period (and service) and data-quality
-- finding: how many, with up to three examples. Grain: (period_start, service, finding) for $grain,
-- the period of each finding's occurred_at in $timezone. $service: only findings naming that service;
-- $services (a list, NULL for any): only findings naming one of them (a team's services);
-- $by_service: one row per service named (findings naming none under an empty service), else 'all'.
-- $environment: findings of that environment, plus those that have none (rejected lines, pipelines).
SELECT
    period_start_of(local_day(occurred_at, $timezone), $grain)           AS period_start,
    CASE WHEN $by_service THEN service ELSE 'all' END                      AS service,
    finding,
    entity_type,
    count(*)                                                               AS findings,
    string_agg(entity_id, ' | ' ORDER BY occurred_at, length(entity_id), entity_id) FILTER (WHERE rn <= 3) AS examples,
    $grain                                                                 AS grain,
    $timezone                                                              AS time_zone,
    $definitions_version                                                   AS definitions_version
FROM (
    SELECT *, row_number() OVER (PARTITION BY finding, period_start_of(local_day(occurred_at, $timezone), $grain),
                                 CASE WHEN $by_service THEN service END ORDER BY occurred_at, length(entity_id), entity_id) AS rn
    FROM dq_findings
    WHERE (environment IS NULL OR environment = $environment)
      AND ($service::VARCHAR IS NULL OR service = $service)
      AND ($services::VARCHAR[] IS NULL OR list_contains($services::VARCHAR[], service))
) f
WHERE period_start >= period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)
  AND period_start <= coalesce($to_date::DATE, DATE '9999-12-31')
GROUP BY ALL
ORDER BY period_start, service NULLS FIRST, finding;
