"""Annotations: dated, named process changes, from a CSV file or one at a time.

An annotation is keyed by (name, service); service NULL means the whole organisation. Importing a
file (columns `date,name,service,description`) validates every row in DuckDB
(stg_annotations__rows.sql): bad rows are rejected with file, line, raw text and reason, valid rows
still load. Importing the same file again changes nothing; a later file that repeats a name moves
that annotation to its new date and description (the id stays). The caller owns the transaction.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd

from core.errors import DoraError, InputError
from core.sql import read_sql
from ingest.csvinput import read_csv_rows
from ingest.warehouse import Run, RunCounts

ORIGIN = "annotations"
EXPECTED = "(expected: date,name,service,description — service empty for the whole organisation)"
REJECT_SAMPLES = 20
MAX_NAME = 200


def import_annotations(con: duckdb.DuckDBPyConnection, path: str | Path, run: Run) -> RunCounts:
    """Validate and store one annotations CSV; returns what it did (the caller commits)."""
    rows = read_csv_rows(path, ("date", "name"), optional=("service", "description"), example=EXPECTED)
    con.register("annotation_rows", rows.table)
    try:
        con.execute("CREATE OR REPLACE TEMP TABLE parsed_annotations AS "
                    + read_sql("ingest", "stg_annotations__rows"))
    finally:
        con.unregister("annotation_rows")
    con.execute(
        """
        INSERT INTO rejects (ingest_run_id, origin, file, line_no, raw, reason)
        SELECT ?, ?, p.file, p.line_no, p.raw, p.reason FROM parsed_annotations p
        WHERE p.reason IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM rejects r WHERE r.origin = ? AND r.file = p.file
                          AND r.line_no = p.line_no AND r.raw = p.raw)
        """,
        [run.run_id, ORIGIN, ORIGIN],
    )
    # valid rows that are new or differ from what is stored under the same (name, service)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE annotation_changes AS
        SELECT p.*, a.id AS existing_id FROM parsed_annotations p
        LEFT JOIN annotations a ON a.name = p.name AND a.service IS NOT DISTINCT FROM p.service
        WHERE p.reason IS NULL
          AND (a.id IS NULL OR a.starts_on <> p.starts_on
               OR a.description IS DISTINCT FROM p.description)
        """
    )
    con.execute(
        """
        UPDATE annotations a SET starts_on = c.starts_on, description = c.description, ingest_run_id = ?
        FROM annotation_changes c WHERE a.id = c.existing_id
        """,
        [run.run_id],
    )
    con.execute(
        """
        INSERT INTO annotations (name, starts_on, service, description, created_at, ingest_run_id)
        SELECT name, starts_on, service, description, ?, ? FROM annotation_changes
        WHERE existing_id IS NULL ORDER BY starts_on, line_no
        """,
        [datetime.now(timezone.utc), run.run_id],
    )
    records, rejected, valid, loaded = con.execute(
        """
        SELECT (SELECT count(*) FROM parsed_annotations),
               (SELECT count(*) FROM parsed_annotations WHERE reason IS NOT NULL),
               (SELECT count(*) FROM parsed_annotations WHERE reason IS NULL),
               (SELECT count(*) FROM annotation_changes)
        """
    ).fetchall()[0]
    samples = con.execute(
        "SELECT file, line_no, reason FROM parsed_annotations WHERE reason IS NOT NULL ORDER BY line_no LIMIT ?",
        [REJECT_SAMPLES],
    ).fetchall()
    counts = RunCounts(records=records, loaded=loaded, duplicates=valid - loaded, rejected=rejected,
                       reject_samples=samples)
    run.counts.add(counts)
    return counts


def check_name(name: str) -> str:
    """The name trimmed, or InputError saying what is wrong with it (the rules of the CSV import)."""
    name = (name or "").strip()
    if not name:
        raise InputError("an annotation needs a name, e.g. \"Phase 1: remove manual gates\"")
    if len(name) > MAX_NAME:
        raise InputError(f"an annotation's name is at most {MAX_NAME} characters")
    if re.fullmatch(r"\d+", name):
        raise InputError(f"name {name!r} is only digits (it would read as an id); use words")
    return name


def add_annotation(con: duckdb.DuckDBPyConnection, run: Run, name: str, starts_on: date,
                   service: str | None = None, description: str | None = None) -> int:
    """Store one annotation and return its id; an existing (name, service) is an error, not a change."""
    name = check_name(name)
    service = (service or "").strip() or None
    description = (description or "").strip() or None
    existing = con.execute(
        "SELECT id, starts_on FROM annotations WHERE name = ? AND service IS NOT DISTINCT FROM ?",
        [name, service],
    ).fetchall()
    if existing:
        ident, on = existing[0]
        raise DoraError(f"annotation {name!r}{_for(service)} already exists (id {ident}, {on:%Y-%m-%d}); "
                        f"remove it first (`dora annotate remove {ident}`) or choose another name")
    ident = con.execute(
        """
        INSERT INTO annotations (name, starts_on, service, description, created_at, ingest_run_id)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING id
        """,
        [name, starts_on, service, description, datetime.now(timezone.utc), run.run_id],
    ).fetchall()[0][0]
    run.counts.add(RunCounts(records=1, loaded=1))
    return ident


def find_annotations(con: duckdb.DuckDBPyConnection, ref: str) -> pd.DataFrame:
    """The annotations `ref` names: an id (digits) or a name (every service's, if several)."""
    ref = str(ref).strip()
    if re.fullmatch(r"\d+", ref):
        sql, params = "SELECT * FROM annotations WHERE id = ?", [int(ref)]
    else:
        sql, params = "SELECT * FROM annotations WHERE name = ?", [ref]
    return con.execute(sql + " ORDER BY starts_on, id", params).df()


def remove_annotation(con: duckdb.DuckDBPyConnection, run: Run, ref: str) -> pd.DataFrame:
    """Delete the one annotation `ref` names (id or name) and return it; ambiguous names are an error."""
    found = find_annotations(con, ref)
    if found.empty:
        raise DoraError(f"no annotation {ref!r}; see `dora annotate list`")
    if len(found) > 1:
        choices = "; ".join(f"id {r.id}{_for(r.service if isinstance(r.service, str) else None)}"
                            for r in found.itertuples())
        raise DoraError(f"{len(found)} annotations are named {ref!r} ({choices}): remove one by its id")
    con.execute("DELETE FROM annotations WHERE id = ?", [int(found.id.iloc[0])])
    run.counts.add(RunCounts(records=1, loaded=1))
    return found


def _for(service: str | None) -> str:
    return f" for service {service!r}" if service else " for the organisation"
