"""Event-log source: CDEvents JSON Lines (contract §1) into raw_events, rejects and stg_events.

Python only cuts the file into chunks of lines with their line numbers; DuckDB parses, validates,
deduplicates and stores each chunk in bulk (stg_eventlog__lines.sql), parsing the next chunk on a
second connection while the current one is stored. The caller owns the transaction, so a run lands
whole or not at all. Speed figures and what costs what: docs/performance.md.
"""
from __future__ import annotations

import gzip
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from queue import Empty, Full, Queue
from typing import Any, BinaryIO, Callable, Iterator

import duckdb
import numpy as np
import pyarrow as pa

from core.errors import InputError
from core.sql import bind_params, read_sql, run_sql
from ingest.warehouse import Run, RunCounts, count_parsed_rows, register_table, store_rejects

ORIGIN = "eventlog"
# Up to three chunks are in Python at once (one stored, one queued, one being parsed), each with its
# text and parsed columns, beside DuckDB's own 1 GB: with 64 MiB chunks `dora ingest events` of the 1M
# bench log peaked at 1.87 GB RSS, with 32 MiB at 1.54 GB, with 16 MiB at 1.44 GB (the 1.5 GB target),
# the load still 4.3x the bare read_json floor (docs/performance.md, "Memory").
CHUNK_BYTES = 16 * 1024 * 1024
BATCH_ROWS = 8192  # rows per Arrow record batch: DuckDB scans batches in parallel
STDIN = "-"
BOM = b"\xef\xbb\xbf"
# Bump when stg_eventlog__lines.sql changes what it stages or rejects: the next run stages every
# stored event again (restage_event_log). 2 = definitions version 2 (traffic_percent, causes, times).
STAGING_VERSION = 2
RESTAGE_ROWS = 200_000  # stored events read back and parsed per statement when re-staging
_NOT_BLANK = re.compile(rb"[^ \t\r\n]")


@dataclass(frozen=True)
class TimeBounds:
    """Which timestamps are plausible (contract §1): none before `earliest` (00:00 UTC), none more
    than `max_future_hours` after the moment of ingest. dora.toml's [eventlog] may change both."""

    earliest: date = date(2000, 1, 1)
    max_future_hours: float = 24.0

    def params(self, now: datetime) -> dict[str, Any]:
        """The bounds as stg_eventlog__lines.sql's parameters, for a load at `now`."""
        earliest_at = datetime.combine(self.earliest, time(), timezone.utc)
        latest_at = now.astimezone(timezone.utc) + timedelta(hours=self.max_future_hours)
        return {
            "earliest_at": earliest_at, "earliest_text": self.earliest.isoformat(),
            # the reason does not name the moment: a line rejected again by a later run reads the same
            "latest_at": latest_at,
            "latest_text": f"{self.max_future_hours:g} hour{'' if self.max_future_hours == 1 else 's'} "
                           "after the time of loading",
        }


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

    `first_line` is the number of the stream's first line, for a file resumed at a byte offset; a
    stream read from its start (line 1) may begin with a UTF-8 byte-order mark, which is skipped, and
    must not be a JSON document spread over lines (check_not_document).
    """
    next_line = first_line
    tail = b""
    at_start = first_line == 1
    while True:
        block = stream.read(chunk_bytes)  # as many bytes as asked, unless at the end
        nbytes = len(block)
        if not block and not tail:
            return
        if at_start:
            at_start = False
            block = block.removeprefix(BOM)  # Windows tools write one; it is not part of the JSON
            check_not_document(block, file)
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
        yield table, nbytes
        if not block:
            return


def check_not_document(data: bytes, file: str) -> None:
    """Refuse a file that is one pretty-printed JSON document (an array of events, or one object),
    not JSON Lines: its first non-blank line is `[` or `{` alone, or opens an array it does not close.

    Read line by line, such a file would be hundreds of "not valid JSON" rejects that say nothing
    of the fix. A one-line array (`[{...}]`) is left to be rejected as a line: it may be one bad line
    of a real log.
    """
    found = _NOT_BLANK.search(data)
    if found is None:
        return
    end = data.find(b"\n", found.start())
    first = data[found.start():end if end >= 0 else len(data)].rstrip()
    if first == b"{":
        raise InputError(f"{file} looks like a pretty-printed JSON document, not JSON Lines (one event "
                         f"per line); convert it with: jq -c . {file}")
    if first == b"[" or (first.startswith(b"[") and not first.endswith(b"]")):
        raise InputError(f"{file} looks like a JSON array, not JSON Lines (one event per line); "
                         f"convert it with: jq -c '.[]' {file}")


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


def load_chunk(
    con: duckdb.DuckDBPyConnection, chunk: pa.Table, run: Run,
    bounds: TimeBounds = TimeBounds(), now: datetime | None = None,
) -> RunCounts:
    """Parse one chunk in DuckDB and store its rejects, new raw events and staged rows; times are
    judged plausible by `bounds` as of `now` (default: when the run started)."""
    with setting(con, "arrow_lossless_conversion", True):  # customData stays JSON, not text
        parsed = parse_chunk(con, chunk, bounds.params(now or run.started_at))
    return store_parsed_lines(con, run, parsed)


def parse_chunk(con: duckdb.DuckDBPyConnection, chunk: pa.Table, params: dict[str, Any]) -> pa.Table:
    """A chunk of lines parsed and checked by stg_eventlog__lines.sql (one row per non-blank line);
    `params` are TimeBounds.params."""
    sql = read_sql("ingest", "stg_eventlog__lines")
    with register_table(con, "chunk_lines", chunk):
        return con.sql(sql, params=bind_params(sql, params)).to_arrow_table()


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
    *, bounds: TimeBounds = TimeBounds(), now: datetime | None = None,
    on_notice: Callable[[str], None] | None = None,
) -> RunCounts:
    """Load every file in `paths` (`-` = stdin) into the warehouse; the caller commits.

    Stored events are first staged again if the staging rules changed since (restage_event_log).
    Times are judged plausible by `bounds` as of `now` (default: when the run started). A file
    without a single non-blank line is not an error, but `on_notice` is told, so that a run that
    read nothing does not pass in silence.

    `chunk_bytes` trades memory for fewer, larger bulk statements. While this connection stores a
    chunk (DuckDB compresses what it stores on one core), a second connection reads and parses the
    next one on the other: parsing touches no table, so it needs no part of the run's transaction.
    """
    restage_event_log(con, run, bounds, now)
    params = bounds.params(now or run.started_at)
    empty: list[str] = []
    with setting(con, "arrow_lossless_conversion", True):  # customData stays JSON, not text
        for parsed, nbytes in parse_ahead(con, paths, chunk_bytes, params, empty):
            run.counts.add(store_parsed_lines(con, run, parsed))
            if on_progress:
                on_progress(nbytes)
    for path in empty:
        if on_notice:
            on_notice(f"nothing was read from {path}: it is empty or has only blank lines")
    return run.counts


def restage_event_log(
    con: duckdb.DuckDBPyConnection, run: Run, bounds: TimeBounds = TimeBounds(), now: datetime | None = None,
) -> None:
    """Stage every stored event-log event again when the warehouse's staged rows were made by older
    staging rules (STAGING_VERSION), in the caller's transaction; then record the version.

    raw_events keeps each line's text unchanged for this: the rows are parsed again by the current
    stg_eventlog__lines.sql, as a fresh load of the same lines would be. A stored event the current
    rules reject (a year 1900, a service named `all`) becomes a reject of this run and leaves
    raw_events, again as in a fresh load: its text is kept in rejects. GitHub's rows are staged
    again by its own next sync.
    """
    origin = {"origin": ORIGIN}
    rows = run_sql(con, "ingest", "eventlog_read_staging_version", origin).fetchall()
    if rows and rows[0][0] >= STAGING_VERSION:
        return
    first, last = run_sql(con, "ingest", "eventlog_stored_range", origin).fetchall()[0]
    params = bounds.params(now or run.started_at)
    if first is not None:
        run_sql(con, "ingest", "eventlog_delete_staged", origin)
        with setting(con, "arrow_lossless_conversion", True):
            for start in range(first, last + 1, RESTAGE_ROWS):
                sql = read_sql("ingest", "eventlog_stored_lines")
                window = {**origin, "first": start, "stop": start + RESTAGE_ROWS}
                lines = con.sql(sql, params=bind_params(sql, window)).to_arrow_table()
                parsed = parse_chunk(con, lines, params)
                with register_table(con, "parsed_rows", parsed):
                    store_rejects(con, run, ORIGIN)
                    run_sql(con, "ingest", "eventlog_restage_delete_raw", origin)
                    run_sql(con, "ingest", "eventlog_restage_create_new_events")
                    run_sql(con, "ingest", "eventlog_insert_stg_events", {**origin, "run_id": run.run_id})
                    counts = count_parsed_rows(con, loaded=0)
                # these events were read before, by earlier runs: only their rejects are this run's
                run.counts.add(RunCounts(rejected=counts.rejected, reject_samples=counts.reject_samples))
    run_sql(con, "ingest", "eventlog_write_staging_version",
            {**origin, "version": STAGING_VERSION, "staged_at": run.started_at})


def parse_ahead(
    con: duckdb.DuckDBPyConnection, paths: list[str], chunk_bytes: int, params: dict[str, Any],
    empty: list[str],
) -> Iterator[tuple[pa.Table, int]]:
    """(parsed chunk, bytes read) for every chunk of `paths` in order, read and parsed one chunk
    ahead by a thread with its own connection. Its errors are raised here, in order. The paths
    without a single non-blank line are appended to `empty`."""
    parser = con.cursor()
    timezone_name = run_sql(con, "ingest", "read_setting", {"name": "TimeZone"}).fetchall()[0][0]
    parser.execute("SET TimeZone = ?", [timezone_name])
    done = object()
    queue: Queue = Queue(maxsize=1)
    stop = threading.Event()

    def produce() -> None:
        try:
            for path in paths:
                stream = open_log(path)
                records = 0
                try:
                    for chunk, nbytes in read_line_chunks(stream, path, chunk_bytes):
                        item = (parse_chunk(parser, chunk, params), nbytes)
                        records += item[0].num_rows
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
                if records == 0:
                    empty.append(path)
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
