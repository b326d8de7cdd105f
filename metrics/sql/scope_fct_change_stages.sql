-- scope_fct_change_stages: the changes' stages the metric models read in a period-scoped build
-- (metrics.build): those delivered on a day of build_scope_days, by delivered_at (as build_scope_prints).
CREATE VIEW build_scope.fct_change_stages AS
SELECT * FROM main.fct_change_stages WHERE utc_day(delivered_at) IN (SELECT day FROM build_scope.days)
