-- scope_fct_failures: the failed deployments the metric models read in a period-scoped build
-- (metrics.build): those finishing on a day of build_scope_days, by finished_at (as build_scope_prints).
CREATE VIEW build_scope.fct_failures AS
SELECT * FROM main.fct_failures WHERE utc_day(finished_at) IN (SELECT day FROM build_scope.days)
