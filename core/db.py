"""Open a DuckDB file the way every part of the project needs it: UTC, clear errors, a memory cap."""
from __future__ import annotations

from pathlib import Path

import duckdb

from core.errors import WarehouseError


def connect(path: str | Path, *, read_only: bool = False,
            memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Connect to the DuckDB file at `path` in UTC; a lock held by another process is a clear error."""
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
    if memory_limit:
        try:
            con.execute("SET memory_limit = ?", [memory_limit])
        except duckdb.Error as exc:
            con.close()
            raise WarehouseError(f"memory limit {memory_limit!r} is not a memory size, e.g. 1.5GB") from exc
    return con
