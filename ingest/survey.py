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
from core.sql import read_sql
from ingest.csvinput import read_csv_rows
from ingest.warehouse import Run, RunCounts

ORIGIN = "survey"
EXPECTED = "(expected: date,team,respondent,score,scale — e.g. 2026-03-16,payments,r07,4,1-5)"
REJECT_SAMPLES = 20


def ingest_survey(con: duckdb.DuckDBPyConnection, path: str | Path, run: Run,
                  default_scale: str | None = None) -> RunCounts:
    """Validate and store one survey CSV; returns what it did (the caller commits)."""
    if default_scale is not None and not default_scale.strip():
        raise InputError("--scale must be LOW-HIGH, e.g. 1-5")
    required = ("date", "team", "respondent", "score") + (() if default_scale else ("scale",))
    rows = read_csv_rows(path, required, optional=("scale",) if default_scale else (),
                         aliases={"service": "team"}, example=EXPECTED)
    con.register("survey_rows", rows.table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE parsed_survey AS " + read_sql("ingest", "stg_survey__rows"),
                    {"default_scale": default_scale})
    finally:
        con.unregister("survey_rows")
    return store_survey(con, run)


def store_survey(con: duckdb.DuckDBPyConnection, run: Run) -> RunCounts:
    """From `parsed_survey`: rejects, then the valid rows: new keys inserted, changed ones replaced,
    identical ones counted as duplicates."""
    con.execute(
        """
        INSERT INTO rejects (ingest_run_id, origin, file, line_no, raw, reason)
        SELECT ?, ?, p.file, p.line_no, p.raw, p.reason FROM parsed_survey p
        WHERE p.reason IS NOT NULL
          -- a line rejected by an earlier run is already kept: re-running a file adds nothing
          AND NOT EXISTS (SELECT 1 FROM rejects r WHERE r.origin = ? AND r.file = p.file
                          AND r.line_no = p.line_no AND r.raw = p.raw)
        """,
        [run.run_id, ORIGIN, ORIGIN],
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE survey_changes AS
        SELECT p.* FROM parsed_survey p
        WHERE p.reason IS NULL
          AND NOT EXISTS (SELECT 1 FROM survey_responses s
                          WHERE s.response_date = p.response_date AND s.team = p.team
                            AND s.respondent = p.respondent AND s.score = p.score
                            AND s.scale_min = p.scale_min AND s.scale_max = p.scale_max)
        """
    )
    con.execute(
        """
        DELETE FROM survey_responses s USING survey_changes c
        WHERE s.response_date = c.response_date AND s.team = c.team AND s.respondent = c.respondent
        """
    )
    con.execute(
        """
        INSERT INTO survey_responses (response_date, team, respondent, score, scale_min, scale_max,
                                      ingest_run_id, file, line_no)
        SELECT response_date, team, respondent, score, scale_min, scale_max, ?, file, line_no
        FROM survey_changes
        """,
        [run.run_id],
    )
    records, rejected, valid, loaded = con.execute(
        """
        SELECT (SELECT count(*) FROM parsed_survey),
               (SELECT count(*) FROM parsed_survey WHERE reason IS NOT NULL),
               (SELECT count(*) FROM parsed_survey WHERE reason IS NULL),
               (SELECT count(*) FROM survey_changes)
        """
    ).fetchall()[0]
    samples = con.execute(
        "SELECT file, line_no, reason FROM parsed_survey WHERE reason IS NOT NULL ORDER BY line_no LIMIT ?",
        [REJECT_SAMPLES],
    ).fetchall()
    counts = RunCounts(records=records, loaded=loaded, duplicates=valid - loaded, rejected=rejected,
                       reject_samples=samples)
    run.counts.add(counts)
    return counts
