"""Jobs that write the context the event log does not carry: annotations and survey responses.

Same rule as dora/jobs.py: each job is one transaction (the write, its ingest_runs row and the full
rebuild of facts and metrics), then the read snapshot is published. A failure leaves the warehouse
as it was and is recorded as a failed run afterwards.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pandas as pd

from dora.jobs import run_job
from ingest import annotations, survey
from ingest.warehouse import Run
from metrics.build import MetricSettings


def run_survey_ingest(con: duckdb.DuckDBPyConnection, db_path: Path, path: str, settings: MetricSettings,
                      default_scale: str | None = None) -> Run:
    """Load one survey CSV (rejects kept with reasons) and rebuild the metrics."""
    run, _ = run_job(con, db_path, settings, survey.ORIGIN, path,
                     lambda run: survey.ingest_survey(con, path, run, default_scale))
    return run


def run_annotations_import(con: duckdb.DuckDBPyConnection, db_path: Path, path: str,
                           settings: MetricSettings) -> Run:
    """Load one annotations CSV (rejects kept with reasons) and rebuild the metrics."""
    run, _ = run_job(con, db_path, settings, annotations.ORIGIN, path,
                     lambda run: annotations.import_annotations(con, path, run))
    return run


def run_annotation_add(con: duckdb.DuckDBPyConnection, db_path: Path, settings: MetricSettings, name: str,
                       starts_on: date, service: str | None, description: str | None) -> int:
    """Add one annotation; returns its id."""
    _, ident = run_job(con, db_path, settings, annotations.ORIGIN, f"add {name.strip()}",
                       lambda run: annotations.add_annotation(con, run, name, starts_on, service, description))
    return ident


def run_annotation_remove(con: duckdb.DuckDBPyConnection, db_path: Path, settings: MetricSettings,
                          ref: str) -> pd.DataFrame:
    """Remove the annotation `ref` (id or name) names; returns the removed row."""
    _, removed = run_job(con, db_path, settings, annotations.ORIGIN, f"remove {ref.strip()}",
                         lambda run: annotations.remove_annotation(con, run, ref))
    return removed
