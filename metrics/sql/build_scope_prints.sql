-- build_scope_prints: a fingerprint of each UTC day of each fact table the period metrics read
-- (metric_periods, metric_levels, metric_lead_time_breakdown, metric_batch_size), by the timestamp
-- that puts a row in its periods: a deployment's (and its failure's, its batch's) finish, a change's
-- delivery, an incident's start. A day's print is the sum of its rows' hashes (every column), so a row
-- added, removed or changed anywhere in the day changes it. The coverage adds one row per covered day:
-- observed days change where the coverage moved. Grain: (input, day).
CREATE TABLE build_scope.prints AS
SELECT 'fct_deployments' AS input, utc_day(finished_at) AS day, sum(hash(r)::HUGEINT) AS print
FROM main.fct_deployments r GROUP BY ALL
UNION ALL
SELECT 'fct_failures', utc_day(finished_at), sum(hash(r)::HUGEINT) FROM main.fct_failures r GROUP BY ALL
UNION ALL
SELECT 'fct_lead_times', utc_day(delivered_at), sum(hash(r)::HUGEINT) FROM main.fct_lead_times r
GROUP BY ALL
UNION ALL
SELECT 'fct_incidents', utc_day(started_at), sum(hash(r)::HUGEINT) FROM main.fct_incidents r GROUP BY ALL
UNION ALL
SELECT 'fct_change_stages', utc_day(delivered_at), sum(hash(r)::HUGEINT) FROM main.fct_change_stages r
GROUP BY ALL
UNION ALL
SELECT 'fct_deployment_batches', utc_day(finished_at), sum(hash(r)::HUGEINT) FROM main.fct_deployment_batches r
GROUP BY ALL
UNION ALL
SELECT 'fct_coverage', unnest(range(date_diff('day', DATE '1970-01-01', first_day),
                                     date_diff('day', DATE '1970-01-01', last_day) + 1)), 0
FROM main.fct_coverage
WHERE first_day IS NOT NULL
