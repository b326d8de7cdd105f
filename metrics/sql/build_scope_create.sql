-- build_scope_create: the schema a period-scoped build works in (metrics.build): the facts' day
-- fingerprints, the periods and days to recompute, views of the facts on those days, and the metric
-- models' rows for them. Dropped, object by object, before the build's transaction commits.
CREATE SCHEMA build_scope
