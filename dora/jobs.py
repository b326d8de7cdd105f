"""Jobs the CLI runs: each opens the warehouse, does its work in one transaction and records the run.

A job commits whole or not at all: if it fails (or the process is killed), the warehouse is as it
was before, and a failed run is recorded in ingest_runs afterwards in its own transaction.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import duckdb

from ingest import eventlog
from ingest.warehouse import Run, RunCounts, finish_run, publish_snapshot, start_run, transaction
from metrics.build import MetricSettings, OnModel, update_metrics

T = TypeVar("T")

# What this process committed, newest last ("run 12", "the metric build"): what an interrupt
# arriving anywhere after a commit must report as kept.
committed: list[str] = []


class Interrupted(KeyboardInterrupt):
    """Ctrl-C stopped a job; the message says what was kept (nothing, or everything up to a commit)."""


def is_interrupt(exc: BaseException) -> bool:
    """True for Ctrl-C, whether Python raised it or DuckDB turned it into "Query interrupted"."""
    return isinstance(exc, KeyboardInterrupt) or (isinstance(exc, RuntimeError) and str(exc) == "Query interrupted")


def describe_interrupt() -> str:
    """What an interrupt outside a job's own handling leaves: the last commit of this process, if any."""
    if committed:
        return (f"interrupted after {committed[-1]} committed: everything it wrote is kept and "
                "the read snapshot is published")
    return "interrupted: nothing was written"


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Ctrl-C inside the block takes effect when it ends, so a snapshot copy is never left half done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if received:
        raise KeyboardInterrupt


def run_committed(con: duckdb.DuckDBPyConnection, run: Run) -> bool:
    """True if the run's row (written inside its transaction) is stored: its COMMIT happened."""
    return bool(con.execute("SELECT count(*) FROM ingest_runs WHERE run_id = ?", [run.run_id]).fetchall()[0][0])


def record_failed_run(con: duckdb.DuckDBPyConnection, run: Run, exc: BaseException) -> None:
    """Log a failed run after its rollback, without letting a second error hide the first."""
    try:
        finish_run(con, run, outcome="failed", message=str(exc)[:2000])
    except duckdb.Error:
        pass


def build_metrics(con: duckdb.DuckDBPyConnection, settings: MetricSettings,
                  on_model: OnModel | None = None) -> list[str]:
    """A job's metric build: the models the job's data changed and those reading them, nothing more
    (metrics.build.update_metrics); the models rebuilt."""
    return update_metrics(con, settings, on_model)


def run_job(con: duckdb.DuckDBPyConnection, db_path: Path, settings: MetricSettings, origin: str,
            target: str, work: Callable[[Run], T], *, on_model: OnModel | None = None,
            on_publish: Callable[[], None] | None = None) -> tuple[Run, T]:
    """Run `work(run)` in one transaction with its run row and the build of what it changed; publish
    the snapshot. `on_model` and `on_publish` tell a progress display where the job is."""
    run = start_run(con, origin, target)
    published = False
    try:
        with transaction(con):
            result = work(run)
            finish_run(con, run)
            build_metrics(con, settings, on_model=on_model)
        committed.append(f"run {run.run_id}")
        if on_publish:
            on_publish()
        with deferred_interrupts():
            publish_snapshot(con, db_path)
            published = True
    except BaseException as exc:
        if is_interrupt(exc):
            raise interrupted(con, db_path, run, published) from None
        if isinstance(exc, Exception):
            record_failed_run(con, run, exc)
        raise
    return run, result


def interrupted(con: duckdb.DuckDBPyConnection, db_path: Path, run: Run, published: bool) -> Interrupted:
    """What Ctrl-C during `run` leaves: nothing before its commit; after it, everything, published."""
    if not run_committed(con, run):
        return Interrupted(f"interrupted: nothing from run {run.run_id} was written")
    if f"run {run.run_id}" not in committed:
        committed.append(f"run {run.run_id}")
    if not published:
        publish_uninterrupted(con, db_path)
    return Interrupted(describe_interrupt())


def publish_uninterrupted(con: duckdb.DuckDBPyConnection, db_path: Path) -> None:
    """Publish the snapshot after an interrupt: a second Ctrl-C must not stop this copy."""
    if threading.current_thread() is not threading.main_thread():
        publish_snapshot(con, db_path)
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        publish_snapshot(con, db_path)
    finally:
        signal.signal(signal.SIGINT, previous)


def run_eventlog_ingest(
    con: duckdb.DuckDBPyConnection, db_path: Path, paths: list[str], settings: MetricSettings,
    on_progress: Callable[[int], None] | None = None, chunk_bytes: int = eventlog.CHUNK_BYTES, *,
    bounds: eventlog.TimeBounds = eventlog.TimeBounds(), on_notice: Callable[[str], None] | None = None,
    on_loaded: Callable[[], None] | None = None, on_model: OnModel | None = None,
    on_publish: Callable[[], None] | None = None,
) -> Run:
    """Load event-log files and update the metrics in one transaction, then publish the snapshot.
    The callbacks tell a progress display where the run is: bytes read, the load done, each model
    built, publishing; `on_notice` receives what the load has to say (e.g. an empty file)."""
    def load(run: Run) -> RunCounts:
        counts = eventlog.ingest_event_logs(con, paths, run, on_progress, chunk_bytes,
                                            bounds=bounds, on_notice=on_notice)
        if on_loaded:
            on_loaded()
        return counts

    run, _ = run_job(con, db_path, settings, eventlog.ORIGIN, ", ".join(paths), load,
                     on_model=on_model, on_publish=on_publish)
    return run
