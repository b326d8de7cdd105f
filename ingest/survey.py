"""Developer-satisfaction survey source: a CSV of responses into survey_responses and rejects.

Columns `date,team,respondent,score,scale` (`service` is accepted for `team`; `scale` may come from
`--scale` instead). DuckDB validates every row (stg_survey__rows.sql); bad rows are rejected with
file, line, raw text and reason, and the valid rows still load. One answer per (date, team,
respondent): importing the same file again changes nothing, and a later file that repeats a key
replaces that answer's score (a corrected export). The caller owns the transaction.
"""
from __future__ import annotations

from pathlib import Path

import duckdb

from core.errors import InputError
from core.sql import read_sql, run_sql
from ingest.csvinput import read_csv_rows
from ingest.warehouse import Run, RunCounts, count_parsed_rows, register_table, store_rejects

ORIGIN = "survey"
EXPECTED = "(expected: date,team,respondent,score,scale — e.g. 2026-03-16,payments,r07,4,1-5)"


def ingest_survey(con: duckdb.DuckDBPyConnection, path: str | Path, run: Run,
                  default_scale: str | None = None) -> RunCounts:
    """Validate and store one survey CSV; returns what it did (the caller commits)."""
    if default_scale is not None and not default_scale.strip():
        raise InputError("--scale must be LOW-HIGH, e.g. 1-5")
    required = ("date", "team", "respondent", "score") + (() if default_scale else ("scale",))
    rows = read_csv_rows(path, required, optional=("scale",) if default_scale else (),
                         aliases={"service": "team"}, example=EXPECTED)
    with register_table(con, "survey_rows", rows.table):
        parsed = con.sql(read_sql("ingest", "stg_survey__rows"),
                         params={"default_scale": default_scale}).to_arrow_table()
    with register_table(con, "parsed_rows", parsed):
        counts = store_survey(con, run)
    run.counts.add(counts)
    return counts


def store_survey(con: duckdb.DuckDBPyConnection, run: Run) -> RunCounts:
    """From the view `parsed_rows`: rejects, then the valid rows: new keys inserted, changed ones
    replaced, identical ones counted as duplicates."""
    store_rejects(con, run, ORIGIN)
    run_sql(con, "ingest", "survey_create_changes")
    run_sql(con, "ingest", "survey_delete_replaced")
    loaded = run_sql(con, "ingest", "survey_insert_changes", {"run_id": run.run_id}).fetchall()[0][0]
    return count_parsed_rows(con, loaded)
