-- explain_figure_breakdown: the stored metric_lead_time_breakdown row of one period, service,
-- environment and stage, every figure of it (explain picks the one it explains). Grain: one row, or
-- none for a period without data.
SELECT * FROM metric_lead_time_breakdown
WHERE grain = $grain AND period_start = $period_start AND service = $service AND environment = $environment
  AND stage = $stage
