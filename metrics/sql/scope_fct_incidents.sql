-- scope_fct_incidents: the incidents the metric models read in a period-scoped build
-- (metrics.build): those starting on a day of build_scope_days, by started_at (as build_scope_prints).
CREATE VIEW build_scope.fct_incidents AS
SELECT * FROM main.fct_incidents WHERE utc_day(started_at) IN (SELECT day FROM build_scope.days)
