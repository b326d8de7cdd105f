"""Event-log source: CDEvents JSON Lines (contract §1) into raw_events, rejects and stg_events.

Python only cuts the file into chunks of lines with their line numbers; DuckDB parses, validates,
deduplicates and stores each chunk in bulk (stg_eventlog__lines.sql), parsing the next chunk on a
second connection while the current one is stored. The caller owns the transaction, so a run lands
whole or not at all. Speed figures and what costs what: docs/performance.md.
"""
from __future__ import annotations

import gzip
import sys
import threading
from contextlib import contextmanager
from queue import Empty, Full, Queue
from typing import BinaryIO, Callable, Iterator

import duckdb
import numpy as np
import pyarrow as pa

from core.errors import InputError
from core.sql import read_sql, run_sql
from ingest.warehouse import Run, RunCounts, count_parsed_rows, register_table, store_rejects

ORIGIN = "eventlog"
CHUNK_BYTES = 64 * 1024 * 1024
BATCH_ROWS = 8192  # rows per Arrow record batch: DuckDB scans batches in parallel
STDIN = "-"


def open_log(path: str) -> BinaryIO:
    """The log as a binary stream: `-` is stdin, `*.gz` is decompressed."""
    if path == STDIN:
        return sys.stdin.buffer
    try:
        if path.endswith(".gz"):
            return gzip.open(path, "rb")
        return open(path, "rb")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc


def read_line_chunks(
    stream: BinaryIO, file: str, chunk_bytes: int = CHUNK_BYTES, first_line: int = 1,
) -> Iterator[tuple[pa.Table, int]]:
    """Yield (chunk of lines as an Arrow table, bytes read) with 1-based physical line numbers.

    `first_line` is the number of the stream's first line, for a file resumed at a byte offset.
    """
    next_line = first_line
    tail = b""
    while True:
        block = stream.read(chunk_bytes)
        if not block and not tail:
            return
        if block:
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # one line longer than a block: keep reading
                tail += block
                continue
            # one copy: the unfinished line carried over, then this block's whole lines
            data, tail = b"".join((tail, memoryview(block)[:cut])), block[cut:]
        else:
            data, tail = tail, b""
        table = _lines_table(data, file, next_line)
        next_line += table.num_rows
        yield table, len(block)
        if not block:
            return


def _lines_table(data: bytes, file: str, first_line: int) -> pa.Table:
    """One block of lines as Arrow columns, cut in bulk: no Python object per line.

    The lines, without their newlines, are laid end to end and indexed by offsets: Arrow's own
    string layout. Bytes that are not UTF-8 mark only their own line as bad. The table is cut into
    small record batches so that DuckDB parses them on every core.
    """
    newlines = np.flatnonzero(np.frombuffer(data, np.uint8) == 10)
    k = len(newlines)
    n = k if data.endswith(b"\n") else k + 1  # a final newline ends the last line; no empty line after it
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    offsets[1:k + 1] = newlines - np.arange(k)  # line i ends at its newline, less the i newlines before it
    offsets[n] = len(data) - k
    raw = pa.Array.from_buffers(pa.large_string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data.replace(b"\n", b""))])
    decode_error = pa.array(np.zeros(n, np.bool_))
    try:
        raw.validate(full=True)  # checks UTF-8
    except pa.ArrowInvalid:
        lines, bad = _decode_lines(data[:-1] if data.endswith(b"\n") else data)
        raw, decode_error = pa.array(lines, pa.large_string()), pa.array(bad, pa.bool_())
    table = pa.table({
        # one name for every line of the chunk, stored once
        "file": pa.DictionaryArray.from_arrays(pa.array(np.zeros(n, np.int32)), pa.array([file], pa.string())),
        "line_no": pa.array(np.arange(first_line, first_line + n, dtype=np.int64)),
        "raw": raw,
        "decode_error": decode_error,
    })
    return pa.Table.from_batches(table.to_batches(max_chunksize=BATCH_ROWS))


def _decode_lines(data: bytes) -> tuple[list[str], list[bool]]:
    """Split a block into lines one by one; bytes that are not UTF-8 mark only their own line as bad."""
    lines, bad = [], []
    for raw in data.split(b"\n"):
        try:
            lines.append(raw.decode("utf-8"))
            bad.append(False)
        except UnicodeDecodeError:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.append(True)
    return lines, bad


def load_chunk(con: duckdb.DuckDBPyConnection, chunk: pa.Table, run: Run) -> RunCounts:
    """Parse one chunk in DuckDB and store its rejects, new raw events and staged rows."""
    with setting(con, "arrow_lossless_conversion", True):  # customData stays JSON, not text
        parsed = parse_chunk(con, chunk)
    return store_parsed_lines(con, run, parsed)


def parse_chunk(con: duckdb.DuckDBPyConnection, chunk: pa.Table) -> pa.Table:
    """A chunk of lines parsed and checked by stg_eventlog__lines.sql (one row per non-blank line)."""
    with register_table(con, "chunk_lines", chunk):
        return con.sql(read_sql("ingest", "stg_eventlog__lines")).to_arrow_table()


def store_parsed_lines(con: duckdb.DuckDBPyConnection, run: Run, parsed: pa.Table) -> RunCounts:
    """Store a parsed chunk: its rejects, its new raw events and their staged rows."""
    params = {"origin": ORIGIN, "run_id": run.run_id}
    with register_table(con, "parsed_rows", parsed):
        store_rejects(con, run, ORIGIN)
        with register_table(con, "repeated_lines", find_repeated_lines(con, run)):
            run_sql(con, "ingest", "eventlog_create_new_events")
            # The payload is long JSON text that zstd packs best and fastest (the default
            # dictionary+FSST analysis costs twice the CPU for a bigger file).
            with setting(con, "force_compression", "zstd"):
                loaded = run_sql(con, "ingest", "eventlog_insert_raw_events", params).fetchall()[0][0]
            # the stored keys, for the next chunks (see find_repeated_lines)
            run_sql(con, "ingest", "eventlog_add_seen")
            run_sql(con, "ingest", "eventlog_count_seen", {"added": loaded, "run_id": run.run_id})
            staged = run_sql(con, "ingest", "eventlog_insert_stg_events", params).fetchall()[0][0]
        return count_parsed_rows(con, loaded, unknown_types=loaded - staged)


# The settings a load changes for a moment; names are SQL, so each has its own statement.
_SET = {
    "force_compression": "SET force_compression = ?",
    "arrow_lossless_conversion": "SET arrow_lossless_conversion = ?",
}


@contextmanager
def setting(con: duckdb.DuckDBPyConnection, name: str, value: object) -> Iterator[None]:
    """Run the block with a DuckDB setting changed, then put back what it was."""
    previous = run_sql(con, "ingest", "read_setting", {"name": name}).fetchall()[0][0]
    con.execute(_SET[name], [value])
    try:
        yield
    finally:
        con.execute(_SET[name], [previous])


def find_repeated_lines(con: duckdb.DuckDBPyConnection, run: Run) -> pa.Table:
    """The line numbers of the chunk's valid lines (the registered view parsed_rows) whose (source,
    id) is already stored or appears earlier in the chunk: the first copy wins (earlier lines, files
    and runs).

    Probing raw_events for every chunk would scan all its keys each time. Instead a temp table holds
    a hash of every stored key, built once per run (again if raw_events changed behind our back);
    only the lines whose hash is there are checked against raw_events itself, so a hash collision
    costs a look, never an event.
    """
    run_sql(con, "ingest", "eventlog_create_seen")
    run_sql(con, "ingest", "eventlog_create_seen_state")
    fresh = run_sql(con, "ingest", "eventlog_seen_is_fresh", {"run_id": run.run_id}).fetchall()[0][0]
    if not fresh:
        run_sql(con, "ingest", "eventlog_rebuild_seen")
        run_sql(con, "ingest", "eventlog_reset_seen_state", {"run_id": run.run_id})
    repeated = con.sql(read_sql("ingest", "eventlog_repeated_in_chunk")).to_arrow_table()
    candidates = con.sql(read_sql("ingest", "eventlog_seen_candidates")).to_arrow_table()
    if candidates.num_rows == 0:  # the usual case: raw_events is not read at all
        return repeated
    with register_table(con, "candidates", candidates):
        stored = con.sql(read_sql("ingest", "eventlog_stored_candidates")).to_arrow_table()
    return pa.concat_tables([repeated, stored])


def ingest_event_logs(
    con: duckdb.DuckDBPyConnection, paths: list[str], run: Run,
    on_progress: Callable[[int], None] | None = None, chunk_bytes: int = CHUNK_BYTES,
) -> RunCounts:
    """Load every file in `paths` (`-` = stdin) into the warehouse; the caller commits.

    `chunk_bytes` trades memory for fewer, larger bulk statements. While this connection stores a
    chunk (DuckDB compresses what it stores on one core), a second connection reads and parses the
    next one on the other: parsing touches no table, so it needs no part of the run's transaction.
    """
    with setting(con, "arrow_lossless_conversion", True):  # customData stays JSON, not text
        for parsed, nbytes in parse_ahead(con, paths, chunk_bytes):
            run.counts.add(store_parsed_lines(con, run, parsed))
            if on_progress:
                on_progress(nbytes)
    return run.counts


def parse_ahead(
    con: duckdb.DuckDBPyConnection, paths: list[str], chunk_bytes: int,
) -> Iterator[tuple[pa.Table, int]]:
    """(parsed chunk, bytes read) for every chunk of `paths` in order, read and parsed one chunk
    ahead by a thread with its own connection. Its errors are raised here, in order."""
    parser = con.cursor()
    timezone = run_sql(con, "ingest", "read_setting", {"name": "TimeZone"}).fetchall()[0][0]
    parser.execute("SET TimeZone = ?", [timezone])
    done = object()
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for path in paths:
                stream = open_log(path)
                try:
                    for chunk, nbytes in read_line_chunks(stream, path, chunk_bytes):
                        item = (parse_chunk(parser, chunk), nbytes)
                        while not stop.is_set():
                            try:
                                queue.put(item, timeout=0.1)
                                break
                            except Full:
                                continue
                        if stop.is_set():
                            return
                except OSError as exc:
                    raise InputError(f"cannot read {path}: {exc}") from exc
                finally:
                    if stream is not sys.stdin.buffer:
                        stream.close()
            queue.put(done)
        except BaseException as exc:  # handed to the consumer, which raises it
            queue.put(exc)

    worker = threading.Thread(target=produce, name="eventlog-parser", daemon=True)
    worker.start()
    try:
        while (item := queue.get()) is not done:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while worker.is_alive():  # let it finish its statement, so the connection can close
            try:
                queue.get(timeout=0.1)
            except Empty:
                pass
        parser.close()
