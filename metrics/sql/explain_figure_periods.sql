-- explain_figure_periods: the stored metric_periods row of one period, service and environment, every
-- figure of it (explain picks the one it explains). Grain: one row, or none for a period without data.
SELECT * FROM metric_periods
WHERE grain = $grain AND period_start = $period_start AND service = $service AND environment = $environment
