-- build_scope_create: the schema a build works in when it recomputes only part of a model
-- (metrics.build): the changes and periods to recompute, fingerprints to tell them by, views or copies of the
-- inputs holding only their rows, and the models' rows computed for them. Dropped, object by object,
-- before the build's transaction commits.
CREATE SCHEMA build_scope
