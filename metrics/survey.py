"""Developer satisfaction per period, from the survey responses (metrics/sql/metric_survey.sql)."""
from __future__ import annotations

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import run_sql
from metrics.filters import Filters, check_grain


def list_teams(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Teams with any survey response."""
    return [r[0] for r in run_sql(con, "metrics", "list_teams").fetchall()]


def query_survey(con: duckdb.DuckDBPyConnection, filters: Filters) -> pd.DataFrame:
    """One row per period (and team with by_service / service, matched by name): responses,
    respondents, satisfaction mean, sd, median and share of scale (0..1), and the scale."""
    check_grain(filters.grain)
    teams = None
    if filters.service or filters.by_service:
        known = list_teams(con)
        if filters.service and filters.service not in known:
            raise DoraError(f"no survey responses for team {filters.service!r}; known: "
                            f"{', '.join(known[:10]) or 'none yet (load some with `dora ingest survey FILE`)'}")
        teams = [filters.service] if filters.service else known
    return run_sql(con, "metrics", "export_survey", {
        "grain": filters.grain, "from_date": filters.from_date, "to_date": filters.to_date, "teams": teams,
    }).df()
