"""The data-quality report: what the metrics left out or could not link, with examples (dq_findings)."""
from __future__ import annotations

import duckdb
import pandas as pd

from core.sql import run_sql

# What each finding means for the figures, in a lead's words (docs/metrics.md, "Data-quality findings").
FINDINGS: dict[str, str] = {
    "change_not_deployed": "merged, but no production deployment shipped it: not in lead times",
    "change_unknown": "a deployment lists it, but no change.merged event: no lead time",
    "incident_unresolved": "never resolved: left out of recovery times",
    "incident_never_started": "resolved without a start: left out of the metrics",
    "incident_link_unmatched": "its named cause (deployment, change or commit) matches no deployment exposed "
                               "before it: unattributed",
    "rollback_target_unmatched": "rolled_back_deployment matches no deployment: fails nothing",
    "negative_lead_time": "delivered before its lead time started: left out of lead times",
    "negative_recovery": "resolved before it started: left out of recovery times",
    "negative_failed_deployment_recovery": "failed deployment recovered before it was exposed: left out of "
                                           "failed-deployment recovery times",
    "first_commit_after_merge": "first commit dated after the merge (rewritten commits): lead time starts at "
                                "the earliest of first commit, opened and merged",
    "deployment_without_changes": "no change linked: in the 'none' batch bucket, adds no lead time",
    "incident_without_service": "names no service: only in 'all', never attributed by time window",
    "span_missing": "a lead-time breakdown timestamp is missing: only in the stages it has",
    "negative_span": "a lead-time breakdown stage ends before it starts: left out of that stage",
    "pipeline_unfinished": "pipeline run never finished: left out of durations",
    "negative_duration": "pipeline run or stage finished before it started: left out of durations",
    "event_rejected": "input line rejected at ingest: stored in `rejects`, not in any figure",
}


def report_quality(con: duckdb.DuckDBPyConnection, examples: int = 3, finding: str | None = None) -> pd.DataFrame:
    """Every finding with its count and its first `examples` rows (earliest first), most frequent first."""
    return run_sql(con, "metrics", "report_quality", {"examples": examples, "finding": finding}).df()


def list_findings(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every finding row, for CSV: finding, entity_type, entity_id, service, environment, occurred_at, detail."""
    return run_sql(con, "metrics", "list_findings").df()
