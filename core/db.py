"""Open a DuckDB file the way every part of the project needs it: UTC, clear errors, a memory cap, no
progress bar of DuckDB's own on stdout."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import duckdb

from core.errors import WarehouseError

# DuckDB's own default is 80% of the machine's RAM, which it then fills with cached pages: a nightly
# job on a shared machine took 4-5 GB. Under a cap, DuckDB spills to disk instead; its process's
# resident memory runs about 0.1 GB over the cap (measured at 1M deployments, docs/performance.md,
# "Memory"). A reader (of the read snapshot) and a writer both get 1 GB: every read command peaks under
# 0.6 GB, and every model of the build passes under 1 GB, spilling, at ≤ 1.07 GB resident — within
# the 1.5 GB target for a command, with room for what the event-log load holds outside DuckDB. (The
# models' quantiles used to need 2.5 GB: quantile_cont keeps each group's values in memory and
# cannot spill; they now collect the values with list(), which spills.) DORA_MEMORY_LIMIT overrides
# both.
READER_MEMORY_LIMIT = "1GB"
WRITER_MEMORY_LIMIT = "1GB"


def connect(path: str | Path, *, read_only: bool = False,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Connect to the DuckDB file at `path` in UTC, capped at `memory_limit` (default: the reader's or
    the writer's limit above) and spilling beyond it; a lock held by another process is a clear error."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise WarehouseError(
                f"{path} is in use by another process (another `dora` command is writing it); "
                "try again when it has finished"
            ) from exc
        raise WarehouseError(f"cannot open {path}: {exc}") from exc
    # Everything is stored and computed in UTC; periods convert explicitly to the configured zone.
    con.execute("SET TimeZone = 'UTC'")
    # DuckDB draws its own progress bar on stdout for any query running over 2 s, a pipe or not: at
    # 1M deployments the build's models did, into `-q` (cron) output, and a long query could put it
    # into what a command writes to stdout (`dora export`). Our commands show their progress on stderr.
    con.execute("SET enable_progress_bar = false")
    writer = not read_only and str(path) != ":memory:"
    con.execute("SET temp_directory = ?", [spill_directory(path, writer)])
    try:
        con.execute("SET memory_limit = ?", [memory_limit or (WRITER_MEMORY_LIMIT if writer else READER_MEMORY_LIMIT)])
    except duckdb.Error as exc:
        con.close()
        raise WarehouseError(f"memory limit {memory_limit!r} is not a memory size, e.g. 1.5GB") from exc
    return con


def spill_directory(path: str | Path, writer: bool) -> str:
    """Where DuckDB spills what does not fit under the memory cap.

    Beside a warehouse it writes (`<name>.duckdb.tmp`, DuckDB's own choice: the same disk as the data,
    which has room for it). A reader — read-only, or an in-memory database that attaches the read
    snapshot — spills to the system's temporary folder instead: it must work where the warehouse's
    folder is read-only, and DuckDB's default for an in-memory database is `.tmp` in the current folder.
    """
    if writer:
        return f"{path}.tmp"
    return os.path.join(tempfile.gettempdir(), f"dora-spill-{os.getuid() if hasattr(os, 'getuid') else 0}")
