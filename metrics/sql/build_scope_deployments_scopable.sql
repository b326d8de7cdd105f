-- build_scope_deployments_scopable: whether a row-scoped build may recompute only the tails of the
-- streams with new deployment events (build_scope_streams: every one scopable), the deployment events
-- the last build read being all still staged as it read them (no re-staging since). Grain: one row.
SELECT (SELECT coalesce(bool_and(scopable), true) FROM build_scope.streams)
   AND (SELECT count(*) FROM main.stg_events
        WHERE kind = 'deployment'
          AND ingest_run_id <= (SELECT coalesce(max(last_run_id), -1) FROM main.build_info))
       = (SELECT coalesce(sum(staged), 0) FROM main.build_inputs WHERE kind = 'deployment')
