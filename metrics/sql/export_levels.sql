-- export_levels: the DORA levels table for readers (`dora levels`, `dora export --table levels`).
-- Grain: (period_start, service, metric) for one $report, $grain and $environment, periods clipped to
-- $from_date..$to_date as in export_summary. $services: the services to list (NULL = 'all'). Only
-- periods with data appear (metric_periods has no empty periods).
SELECT
    l.period_start, l.service, l.environment, l.metric, l.value, l.unit, l.sample_size,
    l.survey_answer, l.survey_answer_text, l.level, l.level_rule, l.report,
    l.quickcheck_score, l.benchmark_2025_score, l.score_vs_benchmark, l.grain
FROM metric_levels l
WHERE l.report = $report AND l.grain = $grain AND l.environment = $environment
  AND l.service IN (SELECT unnest(coalesce($services, ['all'])))
  AND l.period_start >= period_start_of(coalesce($from_date::DATE, DATE '0001-01-01'), $grain)
  AND l.period_start <= coalesce($to_date::DATE, DATE '9999-12-31')
ORDER BY l.period_start, l.service = 'all' DESC, l.service,
    list_position(['deployment_frequency', 'lead_time', 'change_failure_rate',
                   'failed_deployment_recovery_time', 'incident_recovery_time', 'deployment_rework_rate'],
                  l.metric)
