"""Jobs the CLI runs: each opens the warehouse, does its work in one transaction and records the run.

A job commits whole or not at all: if it fails (or the process is killed), the warehouse is as it
was before, and a failed run is recorded in ingest_runs afterwards in its own transaction.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

import duckdb

from ingest import eventlog
from ingest.warehouse import Run, finish_run, publish_snapshot, start_run, transaction
from metrics.build import MetricSettings, build_metrics

T = TypeVar("T")


def record_failed_run(con: duckdb.DuckDBPyConnection, run: Run, exc: BaseException) -> None:
    """Log a failed run after its rollback, without letting a second error hide the first."""
    try:
        finish_run(con, run, outcome="failed", message=str(exc)[:2000])
    except duckdb.Error:
        pass


def run_job(con: duckdb.DuckDBPyConnection, db_path: Path, settings: MetricSettings, origin: str,
            target: str, work: Callable[[Run], T]) -> tuple[Run, T]:
    """Run `work(run)` in one transaction with its run row and a rebuild; publish the snapshot."""
    run = start_run(con, origin, target)
    try:
        with transaction(con):
            result = work(run)
            finish_run(con, run)
            build_metrics(con, settings)
    except Exception as exc:
        record_failed_run(con, run, exc)
        raise
    publish_snapshot(con, db_path)
    return run, result


def run_eventlog_ingest(
    con: duckdb.DuckDBPyConnection, db_path: Path, paths: list[str], settings: MetricSettings,
    on_progress: Callable[[int], None] | None = None, chunk_bytes: int = eventlog.CHUNK_BYTES,
) -> Run:
    """Load event-log files and rebuild the metrics in one transaction, then publish the snapshot."""
    run, _ = run_job(con, db_path, settings, eventlog.ORIGIN, ", ".join(paths),
                     lambda run: eventlog.ingest_event_logs(con, paths, run, on_progress, chunk_bytes))
    return run
