"""Developer satisfaction per period, from the survey responses (metrics/sql/metric_survey.sql)."""
from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from core.errors import DoraError
from core.sql import read_sql

if TYPE_CHECKING:
    from metrics.export import Filters


def list_teams(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Teams with any survey response."""
    return [r[0] for r in con.execute("SELECT DISTINCT team FROM survey_responses ORDER BY 1").fetchall()]


def query_survey(con: duckdb.DuckDBPyConnection, filters: "Filters") -> pd.DataFrame:
    """One row per period (and team with by_service / service, matched by name): responses,
    respondents, satisfaction mean, sd, median and share of scale (0..1), and the scale."""
    from metrics.export import GRAINS

    if filters.grain not in GRAINS:
        raise DoraError(f"grain must be one of {', '.join(GRAINS)}")
    teams = None
    if filters.service or filters.by_service:
        known = list_teams(con)
        if filters.service and filters.service not in known:
            raise DoraError(f"no survey responses for team {filters.service!r}; known: "
                            f"{', '.join(known[:10]) or 'none yet (load some with `dora ingest survey FILE`)'}")
        teams = [filters.service] if filters.service else known
    return con.execute(read_sql("metrics", "export_survey"), {
        "grain": filters.grain, "from_date": filters.from_date, "to_date": filters.to_date, "teams": teams,
    }).df()
