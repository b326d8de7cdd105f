"""The DuckDB warehouse: opening it, its schema, transactions and the ingest-runs log.

Every ingestor writes through this module, so all of them share one schema, one transaction rule
(a run commits whole or not at all) and one record of what each run did.
"""
from __future__ import annotations

import json
import os
import shutil
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Iterator

import duckdb
import pyarrow as pa

from core.db import connect
from core.errors import WarehouseError
from core.files import write_atomically
from core.sql import read_sql, run_sql
from core.text import redact

try:
    import fcntl
except ImportError:  # Windows: no clones, the plain copy below
    fcntl = None  # type: ignore[assignment]

REJECT_SAMPLES = 20  # rejects listed at the end of a run (`dora rejects` shows them all)


# A warehouse from before the marker existed has these tables (and no other program's file has all three).
_MARKER = "dora_warehouse"
_LEGACY_TABLES = {"raw_events", "rejects", "ingest_runs"}


def open_warehouse(path: str | Path, *, read_only: bool = False,
                   memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """Connect to the DuckDB file at `path`, creating it and its schema unless `read_only`.

    Only a new or empty file, or one carrying our marker, is written: another program's DuckDB file
    is refused before anything is changed in it.
    """
    path = Path(path)
    if read_only and not path.exists():
        raise WarehouseError(f"no warehouse at {path}: load data first, e.g. `dora ingest events FILE`")
    if not read_only:
        create_folder(path)
        if path.exists() and path.stat().st_size == 0:
            path.unlink()  # an empty file (`mktemp`) holds nothing; DuckDB cannot open it as a database
    con = connect(path, read_only=read_only, memory_limit=memory_limit)
    if not read_only:
        try:
            check_ours(con, path)
            con.execute(read_sql("ingest", "schema"))
            con.execute(read_sql("ingest", "schema_marker"))
        except BaseException:
            con.close()
            raise
    return con


def create_folder(path: Path) -> None:
    """The warehouse's folder, created if missing; a clear error where that is impossible."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WarehouseError(f"cannot create the folder {path.parent} for the warehouse: "
                             f"{exc.strerror or exc}") from exc


def check_ours(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Refuse a DuckDB file that holds tables and is not a dora warehouse (nothing has been written yet)."""
    names = {name for (name,) in run_sql(con, "ingest", "list_user_tables").fetchall()}
    if not names or _MARKER in names or _LEGACY_TABLES <= names:
        return
    shown = ", ".join(sorted(names)[:5]) + (", …" if len(names) > 5 else "")
    raise WarehouseError(
        f"{path} is another program's DuckDB file (it holds {shown} and no dora marker): nothing was "
        "changed; give --db a new file or an existing dora warehouse")


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Commit everything done inside the block, or nothing if it raises (or the process dies)."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.TransactionException:
            pass  # an interrupted COMMIT has already ended the transaction: nothing left to undo
        raise
    con.execute("COMMIT")


@dataclass
class RunCounts:
    """What one ingest run did, for the ingest_runs table and the end-of-run summary."""

    records: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    unknown_types: int = 0
    reject_samples: list[tuple[str, int | None, str]] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        return "rejects" if self.rejected else "ok"

    def add(self, other: "RunCounts") -> None:
        self.records += other.records
        self.loaded += other.loaded
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.unknown_types += other.unknown_types
        self.reject_samples.extend(other.reject_samples)


@dataclass
class Run:
    """One ingest run: its id, what it reads, when it started, and its counts so far."""

    run_id: int
    origin: str
    target: str
    started_at: datetime
    counts: RunCounts = field(default_factory=RunCounts)


def start_run(con: duckdb.DuckDBPyConnection, origin: str, target: str) -> Run:
    """A new run; its row is written by finish_run, in the run's own transaction."""
    run_id = con.execute("SELECT nextval('ingest_run_ids')").fetchall()[0][0]
    return Run(run_id, origin, target, datetime.now(timezone.utc))


def finish_run(
    con: duckdb.DuckDBPyConnection, run: Run, *, outcome: str | None = None, message: str | None = None,
) -> None:
    """Record the run: inside the run's transaction on success, after the rollback on failure.

    The message is stored with secrets redacted (core.text.redact), whatever produced it.
    """
    c = run.counts
    run_sql(con, "ingest", "insert_ingest_run", {
        "run_id": run.run_id, "origin": run.origin, "target": run.target, "started_at": run.started_at,
        "finished_at": datetime.now(timezone.utc), "records": c.records, "loaded": c.loaded,
        "duplicates": c.duplicates, "rejected": c.rejected, "unknown_types": c.unknown_types,
        "outcome": outcome or c.outcome, "message": None if message is None else redact(message),
    })


@contextmanager
def register_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> Iterator[None]:
    """`table` is queryable as the view `name` on `con` for the duration of the block.

    The SQL files that read such a view say in their header that the caller registers it. DuckDB
    keeps a dropped view until the transaction commits, and with it whatever the view reads: a run
    that registered each chunk's table itself would hold every chunk in memory until the end. The
    view reads a proxy instead, which lets go of the table when the block ends (still zero-copy).
    """
    proxy = _ArrowStream(table)
    con.register(name, proxy)
    try:
        yield
    finally:
        con.unregister(name)
        proxy.table = None


class _ArrowStream:
    """An Arrow table as DuckDB scans it (the Arrow PyCapsule stream interface), while it holds one."""

    def __init__(self, table: pa.Table) -> None:
        self.table: pa.Table | None = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self.table.__arrow_c_stream__(requested_schema)


def store_rejects(con: duckdb.DuckDBPyConnection, run: Run, origin: str) -> None:
    """Store the rejected rows of the view `parsed_rows` (registered by the caller) under `origin`;
    a row already rejected by an earlier run is not stored again."""
    run_sql(con, "ingest", "insert_rejects", {"run_id": run.run_id, "origin": origin})


def count_parsed_rows(con: duckdb.DuckDBPyConnection, loaded: int, unknown_types: int = 0) -> RunCounts:
    """What loading the view `parsed_rows` (registered by the caller) did: its rows counted, the
    first rejects as samples. `loaded` valid rows were stored; the other valid ones were duplicates."""
    records, rejected, valid = run_sql(con, "ingest", "count_parsed_rows").fetchall()[0]
    samples = run_sql(con, "ingest", "sample_rejects", {"limit": REJECT_SAMPLES}).fetchall()
    return RunCounts(records=records, loaded=loaded, duplicates=valid - loaded, rejected=rejected,
                     unknown_types=unknown_types, reject_samples=samples)


def snapshot_path(db_path: str | Path) -> Path:
    """Where readers find the last committed state: `<name>.snapshot.duckdb` beside the warehouse, a
    link to one of its two files (snapshot_files)."""
    db_path = Path(db_path)
    return db_path.with_name(db_path.stem + ".snapshot.duckdb")


def snapshot_files(db_path: str | Path) -> tuple[Path, Path]:
    """The two files the snapshot link names in turn: `<name>.snapshot-1.duckdb` and `-2`."""
    db_path = Path(db_path)
    return (db_path.with_name(f"{db_path.stem}.snapshot-1.duckdb"), db_path.with_name(f"{db_path.stem}.snapshot-2.duckdb"))


def publish_snapshot(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> Path:
    """Make the committed warehouse the readers' snapshot, atomically, for readers such as the dashboard.

    DuckDB lets a file have one writer process or many reader processes, never both. Readers open
    only the snapshot, so a dashboard never blocks the nightly writer, and the writer never blocks
    the dashboard. The snapshot is a byte copy of the whole file, so every table, macro and
    drill-down a reader uses is in it.

    Two snapshot files are used in turn, and `<name>.snapshot.duckdb` is a link to the newer: the
    writer brings the other one up to date, then moves the link with a rename, so a reader sees one
    commit whole and one that opened the previous file keeps it. Bringing the older file up to date
    rewrites only the parts of it that differ from the warehouse (refresh_in_place): a nightly run
    changes a small share of the file, and copying all of it cost most of the run (docs/performance.md,
    "Read snapshot"). The file is copied whole instead when a reader still has it open, or there is
    none yet; where Linux can clone a file (Btrfs, XFS, ZFS), a clone, instant, is made instead.
    """
    con.execute("CHECKPOINT")  # everything committed is now in the main file, nothing in the WAL
    snapshot = snapshot_path(db_path)
    # the file the link does not name (the first, when there is no link yet or an older single file)
    older = next(f for f in snapshot_files(db_path) if f.resolve() != snapshot.resolve())
    bring_up_to_date(Path(db_path), older)
    link_snapshot(snapshot, older)
    unpublished_runs_path(snapshot).unlink(missing_ok=True)  # the new copy holds those runs
    record_snapshot(con, snapshot, copied_run_id=None)
    return snapshot


def link_snapshot(snapshot: Path, file: Path) -> None:
    """Point the snapshot link at `file`, beside it, in one rename (a reader of the link sees the old
    file or the new one); relative, so the folder can move."""
    link = snapshot.with_name(snapshot.name + ".tmp")
    link.unlink(missing_ok=True)
    link.symlink_to(file.name)
    os.replace(link, snapshot)


def bring_up_to_date(db_path: Path, older: Path) -> None:
    """Make `older` a byte copy of the checkpointed warehouse: a clone where the file system shares
    blocks; else by rewriting only what differs, when no reader has it open; else a whole copy
    swapped in by a rename (a reader that has the file open keeps it as it was)."""
    tmp = older.with_name(older.name + ".tmp")
    if clone_file(db_path, tmp):
        os.replace(tmp, older)
        return
    tmp.unlink(missing_ok=True)
    if refresh_in_place(db_path, older):
        return
    shutil.copyfile(db_path, tmp)  # inside the kernel on Linux (sendfile)
    os.replace(tmp, older)


def unpublished_runs_path(snapshot: str | Path) -> Path:
    """Beside the snapshot's file (the link's, when given the link): the runs after its copy that
    changed nothing else (keep_snapshot), as JSON."""
    snapshot = Path(snapshot).resolve()
    return snapshot.with_name(snapshot.name + ".runs.json")


def record_snapshot(con: duckdb.DuckDBPyConnection, snapshot: Path, *, copied_run_id: int | None) -> None:
    """Remember what the snapshot file stands for: every run so far and the latest build, its data
    copied up to run `copied_run_id` (None: copied now, so up to the latest run)."""
    stat = snapshot.stat()
    with transaction(con):
        run_sql(con, "ingest", "snapshot_published_clear")
        run_sql(con, "ingest", "snapshot_published_record", {
            "copied_run_id": copied_run_id, "mtime_ns": stat.st_mtime_ns, "size": stat.st_size})


def snapshot_is_current(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> bool:
    """True if the snapshot beside the warehouse is the file last published and stands for every run
    recorded and the latest build: nothing committed since needs readers to see it."""
    rows = run_sql(con, "ingest", "snapshot_published_read").fetchall()
    if not rows or not rows[0][3]:
        return False
    try:
        stat = snapshot_path(db_path).stat()
    except OSError:
        return False
    return (stat.st_mtime_ns, stat.st_size) == (rows[0][1], rows[0][2])


UNPUBLISHED_RUNS_SCHEMA = pa.schema([
    ("run_id", pa.int64()), ("origin", pa.string()), ("target", pa.string()),
    ("started_at", pa.timestamp("us", tz="UTC")), ("finished_at", pa.timestamp("us", tz="UTC")),
    ("records", pa.int64()), ("loaded", pa.int64()), ("duplicates", pa.int64()), ("rejected", pa.int64()),
    ("unknown_types", pa.int64()), ("outcome", pa.string()), ("message", pa.string()),
])


def read_unpublished_runs(snapshot: str | Path) -> pa.Table:
    """The runs kept beside `snapshot` by keep_snapshot (ingest_runs' columns), for a reader to add to
    the snapshot's own; empty when there are none, or the file is unreadable (it is only a courtesy:
    the next publish folds those runs into the snapshot)."""
    try:
        rows = json.loads(unpublished_runs_path(snapshot).read_text(encoding="utf-8"))
        columns = {f.name: [row.get(f.name) for row in rows] for f in UNPUBLISHED_RUNS_SCHEMA}
        for name in ("started_at", "finished_at"):
            columns[name] = [None if v is None else datetime.fromisoformat(v) for v in columns[name]]
        return pa.table(columns, schema=UNPUBLISHED_RUNS_SCHEMA)
    except (OSError, ValueError, TypeError, AttributeError, pa.ArrowException):
        return UNPUBLISHED_RUNS_SCHEMA.empty_table()


def keep_snapshot(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> None:
    """Keep the current snapshot instead of copying the warehouse again, for a job whose runs changed
    nothing readers see but their own ingest_runs rows (the caller checked: no event stored or
    rejected, no model rebuilt, and snapshot_is_current before it began). Those rows go beside the
    snapshot (unpublished_runs_path), so the dashboard's freshness still shows the job ran.

    A no-change nightly job on the 1M-deployment warehouse would otherwise copy 2.4 GB (8 s on an
    idle machine) to publish one row (docs/performance.md, "Read snapshot").
    """
    copied_run_id = run_sql(con, "ingest", "snapshot_published_read").fetchall()[0][0]
    runs = run_sql(con, "ingest", "snapshot_unpublished_runs", {"copied_run_id": copied_run_id}).fetchall()
    rows = [{c: (v.isoformat() if isinstance(v, datetime) else v) for c, v in zip(UNPUBLISHED_RUNS_SCHEMA.names, row)}
            for row in runs]
    write_atomically(unpublished_runs_path(snapshot_path(db_path)), lambda out: json.dump(rows, out, indent=1))
    record_snapshot(con, snapshot_path(db_path), copied_run_id=copied_run_id)


# Linux's FICLONE ioctl: make `dst` share `src`'s blocks (copy-on-write), where the file system can.
_FICLONE = 0x40049409
# What refresh_in_place compares and rewrites at a time: DuckDB's block size. A nightly run at 1M
# deployments changes about 1% of these in a 1.9 GB file (docs/performance.md, "Read snapshot").
CHUNK_BYTES = 256 * 1024


def clone_file(src: Path, dst: Path) -> bool:
    """Make `dst` (replaced) a clone of `src` sharing its blocks; False where the file system cannot."""
    if fcntl is None:
        return False
    with open(src, "rb") as source, open(dst, "wb") as target:
        try:
            fcntl.ioctl(target.fileno(), _FICLONE, source.fileno())
            return True
        except OSError:
            return False  # not supported here (ext4, tmpfs, another OS)


def refresh_in_place(src: Path, dst: Path) -> bool:
    """Make `dst`, an earlier copy of `src`, equal to it by rewriting only the chunks that differ, and
    flush them to disk; False, with nothing written, when `dst` does not exist or a reader has it open.

    DuckDB's readers hold a shared lock on the file they open, so one in another process keeps us
    from taking ours; one in this process shows among its open files. A crash half way leaves `dst`
    wrong, but no reader is pointed at it, and the next refresh compares every byte again."""
    if fcntl is None:
        return False
    try:
        target = open(dst, "r+b", buffering=0)
    except FileNotFoundError:
        return False
    with target, open(src, "rb", buffering=0) as source:
        try:
            fcntl.lockf(target.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a reader in another process has it open
        if opened_elsewhere_here(dst, target.fileno()):
            return False
        rewrite_changed_chunks(source, target)
        os.fsync(target.fileno())  # before the link names it: a rename does not order these writes
    return True


def opened_elsewhere_here(path: Path, own_fd: int) -> bool:
    """True if this process has `path` open through a descriptor other than `own_fd` (a DuckDB reader
    of ours: locks do not stand between one process's descriptors); True where that cannot be told."""
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError:
        return True  # no /proc (macOS): assume it is, and copy
    real = os.path.realpath(path)
    for fd in fds:
        try:
            if int(fd) != own_fd and os.readlink(f"/proc/self/fd/{fd}") == real:
                return True
        except OSError:
            continue  # closed since listed
    return False


def rewrite_changed_chunks(source: BinaryIO, target: BinaryIO) -> int:
    """Write into `target` each CHUNK_BYTES of `source` that differs from target's, then cut target
    to source's length; the number of chunks written."""
    ours, theirs = bytearray(CHUNK_BYTES), bytearray(CHUNK_BYTES)
    offset = written = 0
    while n := source.readinto(ours):
        m = target.readinto(theirs)
        if m != n or (ours != theirs if n == CHUNK_BYTES else ours[:n] != theirs[:n]):
            os.pwrite(target.fileno(), memoryview(ours)[:n], offset)
            target.seek(offset + n)  # where target's next chunk starts, however much of it was read
            written += 1
        offset += n
    target.truncate(offset)
    return written
