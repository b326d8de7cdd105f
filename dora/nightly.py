"""The nightly job: every configured source (event-log files, GitHub repositories), then the metrics.

Each source is its own unit of failure: one that fails is recorded and reported, its uncommitted
work is rolled back, and the others still run. The metric build and the read snapshot follow.

Transactions:
- an event-log source (a path or glob from [eventlog] paths) is one transaction: its new lines,
  the per-file offsets (eventlog_files) and its ingest_runs row land together or not at all;
- a GitHub stream is read in passes; every `checkpoint_pages` pages (and at the end of a pass) its
  data, its resume point and its watermark (ingest_watermarks) are committed together, so an
  interrupted backfill resumes where it stopped and a failure never leaves half a page behind.
"""
from __future__ import annotations

import glob
import hashlib
import os
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable

import duckdb

from core.errors import InputError
from core.sql import run_sql
from dora.jobs import Interrupted, deferred_interrupts, is_interrupt, publish_uninterrupted
from ingest import eventlog
from ingest import github as gh
from ingest.warehouse import (Run, finish_run, keep_snapshot, publish_snapshot, snapshot_is_current, start_run,
                              transaction)
from metrics.build import MetricSettings, update_metrics

Event = Callable[[dict[str, Any]], None]


@dataclass
class SourceResult:
    """What one source did in this run: the summary line and the JSON line are made of this."""

    kind: str                        # 'eventlog' or 'github'
    name: str                        # the path or glob, or owner/name
    outcome: str = "ok"              # ok, rejects, failed, skipped
    run_id: int | None = None
    records: int = 0
    loaded: int = 0                  # new events
    replaced: int = 0                # GitHub: seen before (look-back window, late changes): replaced by its current version
    duplicates: int = 0              # event log: already stored, ignored
    rejected: int = 0
    files: int = 0
    calls: int = 0
    rest_remaining: int | None = None
    graphql_remaining: int | None = None
    streams: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    message: str | None = None
    reject_samples: list[tuple[str, int | None, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("reject_samples")
        data["seconds"] = round(self.seconds, 3)
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class NightlyResult:
    """Every source's result and the metric build's."""

    sources: list[SourceResult]
    metrics_ok: bool
    metrics_message: str | None = None

    @property
    def failed(self) -> bool:
        return not self.metrics_ok or any(s.outcome in ("failed", "skipped") for s in self.sources)

    @property
    def rejected(self) -> bool:
        return any(s.rejected for s in self.sources)


def _record_failed(con: duckdb.DuckDBPyConnection, run: Run, message: str) -> None:
    try:
        finish_run(con, run, outcome="failed", message=message[:2000])
    except duckdb.Error:
        pass


# --------------------------------------------------------------------------------------------
# Event-log files


class _Bounded:
    """A binary stream that ends after `limit` bytes: only whole lines are read from a live log."""

    def __init__(self, stream: BinaryIO, limit: int):
        self.stream, self.left = stream, limit

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        size = self.left if size < 0 else min(size, self.left)
        data = self.stream.read(size)
        self.left -= len(data)
        return data


def _first_line_sha(stream: BinaryIO) -> str | None:
    """The sha256 of a log's first line (decompressed for `.gz`): None until that line is whole. The
    stream is left at its start."""
    line = stream.readline(1 << 16)
    stream.seek(0)
    return hashlib.sha256(line).hexdigest() if line.endswith(b"\n") else None


def _last_line_sha(fh: BinaryIO, end: int) -> str:
    """The sha256 of the line ending at byte `end` (just past a newline) of a plain file."""
    start = _last_newline_end(fh, end - 1)
    fh.seek(start)
    return hashlib.sha256(fh.read(end - start)).hexdigest()


def _last_newline_end(fh: BinaryIO, size: int) -> int:
    """The offset just past the last newline in a plain file's first `size` bytes."""
    block = 1 << 16
    pos = size
    while pos > 0:
        start = max(0, pos - block)
        fh.seek(start)
        data = fh.read(pos - start)
        cut = data.rfind(b"\n")
        if cut >= 0:
            return start + cut + 1
        pos = start
    return 0


def expand_paths(pattern: str) -> list[str]:
    """The files a configured path or glob names, sorted (rotated `x.1` before `x` is fine: ids dedupe)."""
    pattern = os.path.expanduser(pattern)
    if glob.has_magic(pattern):
        return sorted(p for p in glob.glob(pattern) if os.path.isfile(p))
    return [pattern]


@dataclass(frozen=True)
class ReadFile:
    """Where the nightly job stopped reading one event-log file (a row of eventlog_files)."""

    path: str
    inode: int | None
    size_bytes: int | None
    mtime_ns: int | None
    offset_bytes: int              # a plain file: the bytes read (whole lines); a `.gz`: its size
    line_no: int                   # the physical lines read
    first_line_sha: str | None
    last_line_sha: str | None      # a plain file's last line read


def read_known_files(con: duckdb.DuckDBPyConnection) -> list[ReadFile]:
    """Every file the job has read, as it stood before this run wrote anything."""
    return [ReadFile(*row) for row in run_sql(con, "dora", "read_eventlog_files").fetchall()]


def find_resume_point(st: os.stat_result, first_sha: str | None, known: list[ReadFile]) -> ReadFile | None:
    """The furthest point this plain file was read to, under any name: a file keeps its inode when renamed
    or moved (logrotate's `x` -> `x.1`, a folder moved on the same disk), and a file that is still the
    one read has its first line and at least the bytes read. None: not read before."""
    same = [k for k in known if k.inode == st.st_ino and not k.path.endswith(".gz")
            and st.st_size >= k.offset_bytes and (k.offset_bytes == 0 or k.first_line_sha == first_sha)]
    return max(same, key=lambda k: k.offset_bytes, default=None)


def skip_copied_lines(stream: BinaryIO, first_sha: str | None, known: list[ReadFile]) -> ReadFile | None:
    """Skip what a new file shares with a plain file read before, of which it is a copy (logrotate's
    `copytruncate`: `x` copied to `x.1`) or a compressed copy (`compress`: `x.1` -> `x.2.gz`): that
    file's row, when the new file's first line is its first line read, and its first bytes as many as
    were read there hold as many whole lines, the last one that file's last line read. Else None, the
    stream back at its start."""
    read = max((k for k in known if first_sha and k.first_line_sha == first_sha and k.last_line_sha
                and not k.path.endswith(".gz")), key=lambda k: k.offset_bytes, default=None)
    if read is not None:
        left, newlines, last_line = read.offset_bytes, 0, b""
        while left > 0 and (block := stream.read(min(left, 1 << 20))):
            left -= len(block)
            newlines += block.count(b"\n")
            last_line += block  # keep from the newline before the last byte on: the last line, once whole
            last_line = last_line[last_line.rfind(b"\n", 0, len(last_line) - 1) + 1:]
        if left == 0 and newlines == read.line_no and hashlib.sha256(last_line).hexdigest() == read.last_line_sha:
            return read
    stream.seek(0)
    return None


def ingest_eventlog_file(con: duckdb.DuckDBPyConnection, path: str, run: Run, known: list[ReadFile],
                         bounds: eventlog.TimeBounds = eventlog.TimeBounds()) -> int:
    """Load the lines of `path` not read before, under this name or another (`known`, from
    read_known_files as the run began); returns the physical lines read. Caller commits.

    A plain file resumes where it was left, renamed or not (find_resume_point); a `.gz` cannot be
    resumed by offset, so it is read whole, once, unless read before under any name (the same size and
    time, and name or inode). A new file skips what it was copied from (skip_copied_lines). Any other
    file is read from the start (another inode or first line, or truncated): its events were already
    stored, so repeats are ignored, but its rejected lines are kept again, under its name.
    """
    key = os.path.abspath(path)
    try:
        st = os.stat(path)
        gz_read = path.endswith(".gz") and next((k for k in known if (k.path == key or k.inode == st.st_ino)
                                                 and (k.size_bytes, k.mtime_ns) == (st.st_size, st.st_mtime_ns)), None)
        if gz_read:
            state, lines = replace(gz_read, path=key), 0
        else:
            with eventlog.open_log(path) as stream:
                state, lines = read_new_lines(con, stream, path, st, run, known, bounds)
    except (OSError, EOFError) as exc:  # EOFError: a cut-off `.gz`
        raise InputError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from exc
    if state not in known:  # a night with nothing new writes nothing
        run_sql(con, "dora", "write_eventlog_file", {**asdict(state), "ingest_run_id": run.run_id,
                                                     "updated_at": datetime.now(timezone.utc)})
    return lines


def read_new_lines(con: duckdb.DuckDBPyConnection, stream: BinaryIO, path: str, st: os.stat_result, run: Run,
                   known: list[ReadFile], bounds: eventlog.TimeBounds) -> tuple[ReadFile, int]:
    """Load the lines of the open log `path` that were not read before (ingest_eventlog_file): where
    the file stands now, and the lines read."""
    key, gz = os.path.abspath(path), path.endswith(".gz")
    first_sha = _first_line_sha(stream)
    resume = None if gz else find_resume_point(st, first_sha, known)
    if resume:
        stream.seek(resume.offset_bytes)
    else:
        resume = skip_copied_lines(stream, first_sha, known)
    start, before = (resume.offset_bytes, resume.line_no) if resume else (0, 0)
    if gz:
        lines = load_lines(con, stream, path, run, bounds, before + 1)
        return ReadFile(key, st.st_ino, st.st_size, st.st_mtime_ns, st.st_size, before + lines, first_sha, None), lines
    end = max(_last_newline_end(stream, st.st_size), start)  # whole lines: a half-written one waits
    lines = 0
    if end > start:
        stream.seek(start)
        lines = load_lines(con, _Bounded(stream, end - start), path, run, bounds, before + 1)
    last_sha = _last_line_sha(stream, end) if lines else resume and resume.last_line_sha
    return ReadFile(key, st.st_ino, st.st_size, st.st_mtime_ns, end, before + lines, first_sha, last_sha), lines


def load_lines(con: duckdb.DuckDBPyConnection, stream: Any, path: str, run: Run, bounds: eventlog.TimeBounds,
               first_line: int) -> int:
    """Load a stream of a file's lines, the first numbered `first_line`; returns the lines read."""
    lines = 0
    for chunk, _ in eventlog.read_line_chunks(stream, path, first_line=first_line):
        run.counts.add(eventlog.load_chunk(con, chunk, run, bounds))
        lines += chunk.num_rows
    return lines


def ingest_eventlog_source(con: duckdb.DuckDBPyConnection, pattern: str, on_event: Event,
                           bounds: eventlog.TimeBounds = eventlog.TimeBounds()) -> SourceResult:
    """One [eventlog] path or glob: its new lines in one transaction, with the file offsets."""
    started = time.monotonic()
    result = SourceResult("eventlog", pattern)
    run = start_run(con, eventlog.ORIGIN, pattern)
    result.run_id = run.run_id
    files = expand_paths(pattern)
    on_event({"event": "source_start", "kind": "eventlog", "source": pattern, "total": len(files)})
    try:
        with transaction(con):
            eventlog.restage_event_log(con, run, bounds)  # stored events staged by older rules, as `dora ingest events` does
            known = read_known_files(con)  # before any file is read: a file renamed in this glob is found
            for i, path in enumerate(files, 1):
                ingest_eventlog_file(con, path, run, known, bounds)
                on_event({"event": "progress", "source": pattern, "done": i, "total": len(files)})
            finish_run(con, run)
    except Exception as exc:  # one source's failure never stops the others; it is reported
        if is_interrupt(exc):
            raise  # Ctrl-C stops the whole job (run_nightly says what was kept), it is no source's failure
        _record_failed(con, run, str(exc))
        result.outcome, result.message = "failed", str(exc)
    c = run.counts
    if result.outcome != "failed":
        result.outcome = c.outcome
    result.records, result.loaded, result.duplicates, result.rejected = c.records, c.loaded, c.duplicates, c.rejected
    result.files, result.reject_samples = len(files), c.reject_samples
    if not files and result.outcome == "ok":
        result.message = "no files match"
    result.seconds = time.monotonic() - started
    return result


# --------------------------------------------------------------------------------------------
# GitHub repositories


@dataclass
class StreamState:
    watermark_at: datetime | None = None
    pass_state: str = "idle"
    pass_floor_at: datetime | None = None
    pass_high_at: datetime | None = None
    pass_cursor: str | None = None
    etag: str | None = None
    etag_url: str | None = None


def read_stream_state(con: duckdb.DuckDBPyConnection, source: str, stream: str) -> StreamState:
    """The stored watermark and resume point of one stream (defaults if it was never read)."""
    rows = run_sql(con, "dora", "read_stream_state", {"source": source, "stream": stream}).fetchall()
    return StreamState(*rows[0]) if rows else StreamState()


def write_stream_state(con: duckdb.DuckDBPyConnection, source: str, stream: str, state: StreamState,
                       run: Run) -> None:
    """Store a stream's state, in the transaction of the data it describes."""
    run_sql(con, "dora", "write_stream_state", {
        "source": source, "stream": stream, **asdict(state), "ingest_run_id": run.run_id,
        "updated_at": datetime.now(timezone.utc),
    })


@dataclass(frozen=True)
class RunOptions:
    """How far back this run reads: incremental (default), from a date, or everything."""

    since: date | None = None
    full_refresh: bool = False

    @property
    def since_at(self) -> datetime | None:
        if self.since is None:
            return None
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=timezone.utc)


def _max(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


def ingest_stream(
    con: duckdb.DuckDBPyConnection, api: gh.GitHubApi, repo: gh.RepoSettings, stream: str, run: Run,
    settings: gh.GitHubSettings, options: RunOptions, environment: str, result: SourceResult,
    on_event: Event,
) -> None:
    """Read one stream of a repository, committing data and resume point every few pages."""
    state = read_stream_state(con, repo.source, stream)
    etag = None
    if options.full_refresh or options.since:
        floor, cursor, high = options.since_at, None, None
    elif state.pass_state == "running":
        floor, cursor, high = state.pass_floor_at, state.pass_cursor, state.pass_high_at
    else:
        floor, cursor, high = gh.lookback_floor(state.watermark_at, settings.lookback_days), None, None
        pending = gh.pending_since(con, repo, stream, state.watermark_at)
        if pending is not None and floor is not None and pending < floor:
            floor = pending  # an unfinished deployment, run or draft release older than the window
        if state.etag and state.etag_url:
            etag = (state.etag_url, state.etag)
    pages_in_chunk = pages = 0
    chunk = gh.SaveCounts()
    one_page_etag: tuple[str | None, str | None] = (None, None)
    read = 0

    def commit(final: bool) -> None:
        nonlocal chunk, pages_in_chunk
        if final:
            new = StreamState(_max(state.watermark_at, high), "idle", etag=one_page_etag[0],
                              etag_url=one_page_etag[1])
        else:
            new = StreamState(state.watermark_at, "running", floor, high, cursor)
        write_stream_state(con, repo.source, stream, new, run)
        if chunk.records:
            gh.relink_repository(con, repo)
            # the facts no longer match the data: readers rebuild them until the job's build runs
            run_sql(con, "metrics", "build_info_clear")
        con.execute("COMMIT")
        result.records += chunk.records
        result.loaded += chunk.loaded
        result.replaced += chunk.replaced
        result.rejected += chunk.rejected
        result.reject_samples.extend(chunk.reject_samples)
        run.counts.records += chunk.records
        run.counts.loaded += chunk.loaded
        run.counts.duplicates += chunk.replaced
        run.counts.rejected += chunk.rejected
        chunk, pages_in_chunk = gh.SaveCounts(), 0

    con.execute("BEGIN TRANSACTION")
    try:
        for page in gh.fetch_stream(api, repo, stream, floor, cursor, etag):
            if page.not_modified:
                one_page_etag = (page.etag, page.etag_url)
                break
            pages += 1
            records, rejects = gh.normalise_page(stream, page.items)
            counts = gh.save_records(con, repo, stream, records, rejects, run, environment)
            chunk.records += counts.records
            chunk.loaded += counts.loaded
            chunk.replaced += counts.replaced
            chunk.rejected += counts.rejected
            chunk.reject_samples.extend(counts.reject_samples)
            for r in records:
                high = _max(high, r.order_at)
            cursor = page.cursor
            read += len(page.items)
            # an ETag is only worth keeping for an answer of one page (a later page could change alone)
            if pages == 1:
                one_page_etag = (page.etag, page.etag_url)
            elif page.items:
                one_page_etag = (None, None)
            pages_in_chunk += 1
            # the API's total only bounds a backfill; an incremental pass reads a small part of it
            on_event({"event": "progress", "source": repo.name, "stream": stream, "done": read,
                      "total": page.total if floor is None else None})
            if page.done:
                break
            if pages_in_chunk >= settings.checkpoint_pages:
                commit(final=False)
                con.execute("BEGIN TRANSACTION")
        commit(final=True)
    except BaseException:
        try:
            con.execute("ROLLBACK")
        except duckdb.Error:  # the failure was the COMMIT itself: nothing is open; keep the first error
            pass
        raise
    finally:
        result.streams[stream] = result.streams.get(stream, 0) + read


def describe_error(exc: BaseException, repo: gh.RepoSettings) -> str:
    """One line for a failed repository that says what to do; never the token."""
    import requests  # noqa: PLC0415 (with PyGithub, only where GitHub is read: see ingest.github)
    from github import BadCredentialsException, GithubException, UnknownObjectException  # noqa: PLC0415

    if isinstance(exc, gh.RepositoryNotFound):
        return f"{exc}; skipped"
    if isinstance(exc, UnknownObjectException):
        return f"repository {repo.name} not found, or the token cannot read it; skipped"
    if isinstance(exc, BadCredentialsException):
        return "GitHub rejected the token (401 Bad credentials): set GITHUB_TOKEN to a valid token"
    if gh.is_rate_limit_error(exc):
        return "GitHub rate limit exhausted; what was read is kept and the next run resumes"
    if isinstance(exc, GithubException):
        message = exc.message or (exc.data.get("message") if isinstance(exc.data, dict) else None) or ""
        if exc.status == 403:
            return f"access to {repo.name} forbidden (403 {message}); skipped".replace(" )", ")")
        return f"GitHub answered {exc.status} {message}".strip()
    if isinstance(exc, requests.exceptions.RetryError):
        return f"GitHub kept failing after retries: {exc}"
    if isinstance(exc, (requests.exceptions.Timeout, requests.exceptions.ConnectionError)):
        return f"GitHub did not answer after retries: {exc}"
    if isinstance(exc, ValueError):
        return f"GitHub sent malformed JSON repeatedly: {exc}"
    return f"{type(exc).__name__}: {exc}"


def ingest_github_repository(
    con: duckdb.DuckDBPyConnection, api: gh.GitHubApi, repo: gh.RepoSettings, settings: gh.GitHubSettings,
    options: RunOptions, environment: str, on_event: Event,
) -> tuple[SourceResult, BaseException | None]:
    """Every stream of one repository; returns its result and the error that stopped it, if any."""
    started = time.monotonic()
    result = SourceResult("github", repo.name)
    run = start_run(con, gh.ORIGIN, repo.name)
    result.run_id = run.run_id
    calls_before = api.calls
    on_event({"event": "source_start", "kind": "github", "source": repo.name})
    error: BaseException | None = None
    try:
        for stream in repo.streams():
            ingest_stream(con, api, repo, stream, run, settings, options, environment, result, on_event)
        with transaction(con):
            finish_run(con, run)
        result.outcome = "rejects" if result.rejected else "ok"
    except Exception as exc:  # reported, recorded; the other repositories still run
        if is_interrupt(exc):
            raise
        error = exc
        result.outcome, result.message = "failed", describe_error(exc, repo)
        _record_failed(con, run, result.message)
    result.calls = api.calls - calls_before
    result.rest_remaining, result.graphql_remaining = api.rest_remaining, api.graphql_remaining
    result.seconds = time.monotonic() - started
    return result, error


def production_environment_name(settings: MetricSettings) -> str:
    """The environment GitHub deployments are staged in: one the metrics count as production."""
    names = settings.production_environments
    return "production" if "production" in names else names[0]


def run_github_sources(
    con: duckdb.DuckDBPyConnection, github: gh.GitHubSettings, token: str, settings: MetricSettings,
    options: RunOptions, on_event: Event, api_factory: Callable[..., gh.GitHubApi] | None = None,
) -> list[SourceResult]:
    """Every configured repository, one after another; a failure of one never stops the others,
    except a rejected token or an exhausted rate limit, which would fail all the rest the same way.
    `api_factory` makes the client (default gh.GitHubApi)."""
    from github import BadCredentialsException  # noqa: PLC0415 (only where GitHub is read: see ingest.github)

    gh.ensure_sync_tables(con)
    api = (api_factory or gh.GitHubApi)(token, github.client)
    environment = production_environment_name(settings)
    results: list[SourceResult] = []
    stop: str | None = None
    for repo in github.repositories:
        if stop:
            results.append(SourceResult("github", repo.name, "skipped", message=stop))
            on_event({"event": "source_done", "result": results[-1]})
            continue
        result, error = ingest_github_repository(con, api, repo, github, options, environment, on_event)
        results.append(result)
        on_event({"event": "source_done", "result": result})
        if isinstance(error, BadCredentialsException):
            stop = "not read: GitHub rejected the token"
        elif error is not None and gh.is_rate_limit_error(error):
            reset = api.graphql_reset_at or _reset_text(api)
            stop = f"not read: rate limit exhausted{f' until {reset}' if reset else ''}; resumes next run"
    return results


def _reset_text(api: gh.GitHubApi) -> str | None:
    reset = api.requester.rate_limiting_resettime
    if not reset:
        return None
    return datetime.fromtimestamp(reset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------------------------
# The whole job


def build_and_publish(con: duckdb.DuckDBPyConnection, db_path: Path, settings: MetricSettings,
                      snapshot_current: bool = False) -> str | None:
    """Update the facts and metrics in one transaction (only the models the sources' new data changed:
    metrics.build.update_metrics) and publish the snapshot; an error message or None.

    `snapshot_current`: the snapshot stood for everything when the job began and its sources stored
    nothing (no-change runs). If the build then rebuilds nothing either, the snapshot is kept, not
    copied again (ingest.warehouse.keep_snapshot): what cost a 1M-deployment warehouse 9 s costs
    nothing."""
    try:
        with transaction(con):
            rebuilt = update_metrics(con, settings)
    except Exception as exc:
        if is_interrupt(exc):
            raise
        return f"metric build failed: {exc}"
    with deferred_interrupts():
        if snapshot_current and not rebuilt:
            keep_snapshot(con, db_path)
        else:
            publish_snapshot(con, db_path)
    return None


def changed_nothing(result: SourceResult) -> bool:
    """True for a source's run that stored nothing readers see but its run row: an event log with no
    new line (repeats only) and nothing rejected. A GitHub sync never is: its sync time moves the
    coverage's last day (fct_coverage)."""
    return (result.kind == "eventlog" and result.outcome == "ok"
            and result.loaded == result.replaced == result.rejected == 0)


def run_nightly(
    con: duckdb.DuckDBPyConnection, db_path: Path, *, eventlog_paths: list[str],
    github: gh.GitHubSettings | None, token: str | None, settings: MetricSettings,
    options: RunOptions = RunOptions(), on_event: Event = lambda e: None,
    api_factory: Callable[..., gh.GitHubApi] | None = None,
    bounds: eventlog.TimeBounds = eventlog.TimeBounds(),
) -> NightlyResult:
    """Every source, then the metric build and the snapshot. Never raises for a source's failure;
    Ctrl-C raises Interrupted, saying what was kept (each source commits on its own)."""
    gh.ensure_sync_tables(con)
    last_run_before = run_sql(con, "dora", "last_run_id").fetchall()[0][0]
    snapshot_was_current = snapshot_is_current(con, db_path)
    results: list[SourceResult] = []
    try:
        for pattern in eventlog_paths:
            result = ingest_eventlog_source(con, pattern, on_event, bounds)
            results.append(result)
            on_event({"event": "source_done", "result": result})
        if github and github.repositories:
            results += run_github_sources(con, github, token or "", settings, options, on_event, api_factory)
        message = build_and_publish(con, db_path, settings,
                                    snapshot_was_current and all(changed_nothing(r) for r in results))
    except BaseException as exc:
        if not is_interrupt(exc):
            raise
        raise nightly_interrupted(con, db_path, last_run_before) from None
    on_event({"event": "metrics_done", "ok": message is None, "message": message})
    return NightlyResult(results, message is None, message)


def nightly_interrupted(con: duckdb.DuckDBPyConnection, db_path: Path, last_run_before: int) -> Interrupted:
    """What Ctrl-C during the nightly job leaves: each source's commits, published but not yet built."""
    if not run_sql(con, "dora", "committed_since", {"run_id": last_run_before}).fetchall()[0][0]:
        return Interrupted("interrupted: nothing from this run was written")
    publish_uninterrupted(con, db_path)
    return Interrupted("interrupted: what the sources committed before it is kept (finished sources whole, "
                       "GitHub up to its last checkpoint) and published; the metrics are not rebuilt for it: "
                       "run `dora build` (or the next `dora nightly`)")
