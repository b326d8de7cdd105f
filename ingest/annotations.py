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
from core.sql import read_sql, run_sql
from ingest.csvinput import read_csv_rows
from ingest.warehouse import Run, RunCounts, count_parsed_rows, register_table, store_rejects

ORIGIN = "annotations"
EXPECTED = "(expected: date,name,service,description — service empty for the whole organisation)"
MAX_NAME = 200


def import_annotations(con: duckdb.DuckDBPyConnection, path: str | Path, run: Run) -> RunCounts:
    """Validate and store one annotations CSV; returns what it did (the caller commits)."""
    rows = read_csv_rows(path, ("date", "name"), optional=("service", "description"), example=EXPECTED)
    with register_table(con, "annotation_rows", rows.table):
        parsed = con.sql(read_sql("ingest", "stg_annotations__rows"),
                         params={"max_name": MAX_NAME}).to_arrow_table()
    with register_table(con, "parsed_rows", parsed):
        store_rejects(con, run, ORIGIN)
        run_sql(con, "ingest", "annotations_create_changes")
        moved = run_sql(con, "ingest", "annotations_update_changed", {"run_id": run.run_id}).fetchall()[0][0]
        added = run_sql(con, "ingest", "annotations_insert_new",
                        {"created_at": datetime.now(timezone.utc), "run_id": run.run_id}).fetchall()[0][0]
        counts = count_parsed_rows(con, loaded=moved + added)
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
    existing = run_sql(con, "ingest", "annotations_find_key", {"name": name, "service": service}).fetchall()
    if existing:
        ident, on = existing[0]
        raise DoraError(f"annotation {name!r}{_for(service)} already exists (id {ident}, {on:%Y-%m-%d}); "
                        f"remove it first (`dora annotate remove {ident}`) or choose another name")
    ident = run_sql(con, "ingest", "annotations_insert_one", {
        "name": name, "starts_on": starts_on, "service": service, "description": description,
        "created_at": datetime.now(timezone.utc), "run_id": run.run_id,
    }).fetchall()[0][0]
    run.counts.add(RunCounts(records=1, loaded=1))
    return ident


def find_annotations(con: duckdb.DuckDBPyConnection, ref: str) -> pd.DataFrame:
    """The annotations `ref` names: an id (digits) or a name (every service's, if several)."""
    ref = str(ref).strip()
    by_id = re.fullmatch(r"\d+", ref) is not None
    params = {"id": int(ref) if by_id else None, "name": None if by_id else ref}
    return run_sql(con, "ingest", "annotations_find", params).df()


def remove_annotation(con: duckdb.DuckDBPyConnection, run: Run, ref: str) -> pd.DataFrame:
    """Delete the one annotation `ref` names (id or name) and return it; ambiguous names are an error."""
    found = find_annotations(con, ref)
    if found.empty:
        raise DoraError(f"no annotation {ref!r}; see `dora annotate list`")
    if len(found) > 1:
        choices = "; ".join(f"id {r.id}{_for(r.service if isinstance(r.service, str) else None)}"
                            for r in found.itertuples())
        raise DoraError(f"{len(found)} annotations are named {ref!r} ({choices}): remove one by its id")
    run_sql(con, "ingest", "annotations_delete", {"id": int(found.id.iloc[0])})
    run.counts.add(RunCounts(records=1, loaded=1))
    return found


def _for(service: str | None) -> str:
    return f" for service {service!r}" if service else " for the organisation"
