-- How many rows metric_pipeline has: none means no pipeline runs were loaded. Grain: one row.
SELECT count(*) AS rows
FROM metric_pipeline
