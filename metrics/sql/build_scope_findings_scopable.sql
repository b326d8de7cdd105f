-- build_scope_findings_scopable: whether dq_findings can recompute only the rows of
-- build_scope_findings_changes and build_scope_findings_deployments (metrics.build): not when a changed
-- deployment is no longer deployed (an event-log deployment can displace another source's), as its
-- findings name it by columns only its row held. One row, one BOOLEAN.
SELECT count(*) = 0
FROM (SELECT DISTINCT deployment_key FROM build_scope.rows_changed)
WHERE deployment_key NOT IN (SELECT deployment_key FROM main.fct_deployments)
