"""The dashboard's one data-access module: everything it shows is read here, from the read snapshot.

Reads never block writes. DuckDB lets a file have one writing process or many reading ones, never
both, so the dashboard never opens the warehouse itself: it opens only the snapshot every writer
publishes after it commits (`ingest.warehouse.publish_snapshot`), read-only: one connection per
published snapshot, shared by every query through a cursor each (`read_snapshot`), and closed once a
newer snapshot has replaced it. The writer swaps a new snapshot in by renaming it, so the file a
reader holds never stands in its way: a nightly ingest never fails because the dashboard is open,
and the dashboard keeps serving while it runs.

New data appears without a restart: every cached function takes the `Snapshot` — the file's path,
modification time and size — as its first argument, so a newly published snapshot is a new cache
key, while an unchanged one is served from the cache (`st.cache_data`, bounded by a TTL).

The numbers come from the metrics layer (`metrics.export.query_summary` and the tables the metric
models build); this module selects and filters, it does not compute metrics. Its own queries are the
files in dashboard/sql/, one statement each, with the view's filters as bound parameters.
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import queue
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple, Sequence

import duckdb
import pandas as pd
import streamlit as st

from core.db import connect
from core.errors import DoraError
from core.sql import run_sql
from ingest.warehouse import read_unpublished_runs, register_table, snapshot_path, unpublished_runs_path
from metrics import compare, explain, insight_tables, levels, story, survey
from metrics.build import MetricSettings
from metrics.export import Filters, query_summary
from metrics.filters import NO_TEAM, Team, environment_group, team_services
from metrics.goals import Goals, load_scopes
from metrics.teams import wants_team_figures

CACHE_TTL = 600  # seconds: a bound on memory, not on freshness (the snapshot key takes care of that)


def _import_statistics() -> None:
    importlib.import_module("scipy.stats")
    importlib.import_module("scipy.optimize")


# The Overview's comparison with a baseline (metrics.stats) imports SciPy's statistics on first use,
# seconds of the first visit after the server starts: begin that import now, while the first page
# reads the snapshot (DuckDB releases the GIL).
threading.Thread(target=_import_statistics, name="dora-import-statistics", daemon=True).start()
GRAINS = ("week", "month", "quarter", "day")


class Snapshot(NamedTuple):
    """The read snapshot as a cache key: a new publish changes its mtime (and usually its size)."""

    path: str
    mtime_ns: int
    size: int


class View(NamedTuple):
    """The filters a page applies; every field is in the page's URL (see dashboard/ui.py)."""

    grain: str = "month"
    from_date: date | None = None
    to_date: date | None = None
    services: tuple[str, ...] = ()   # () = the whole organisation (or the whole team)
    environment: str = "production"
    team: str | None = None          # a configured team's name or NO_TEAM; None = no team chosen
    teams: tuple[Team, ...] = ()     # the configured teams (locate_scopes), part of the cache key

    @property
    def single_service(self) -> str | None:
        """The one service the view picks, or None when it picks none or several."""
        return self.services[0] if len(self.services) == 1 else None


def _key_text(value) -> str:
    """A View's or a Scope's cache key: its repr, one string (dates, strings and tuples of them, so
    it names the value exactly). Streamlit's own hashing walks the configured teams field by field
    on every call, 1.3 ms a View with 200 services in teams: tens of ms of every rerun, cached or not."""
    return repr(value)


# Every loader below is cached by this: a newly published snapshot is a new key, the TTL bounds memory.
cached = st.cache_data(ttl=CACHE_TTL, show_spinner=False, hash_funcs={View: _key_text, compare.Scope: _key_text})


@dataclass(frozen=True)
class Status:
    """What the snapshot holds: enough to choose what to show, or what to tell the user to run."""

    tables: frozenset[str]
    has_metrics: bool                      # metric_periods was built and has rows
    settings: MetricSettings               # the settings the metrics were built with
    built_at: datetime | None
    first_day: date | None                 # first and last day with any metric row
    last_day: date | None
    environments: tuple[str, ...] = ()     # production first
    services: dict[str, tuple[str, ...]] = field(default_factory=dict)  # per environment


DEFAULT_DB = Path("data/dora.duckdb")  # where `dora` keeps the warehouse when nothing says otherwise


def locate_warehouse(argv: Sequence[str] | None = None, env: Mapping[str, str] = os.environ) -> Path:
    """The warehouse path: `--db` after `streamlit run dashboard/app.py --`, else $DORA_DB, else the default.

    `dora dashboard` resolves the path as every `dora` command does (flag, $DORA_DB, dora.toml) and
    passes it as `--db`; the dashboard reads no configuration of its own.
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    return Path(args.db or env.get("DORA_DB") or DEFAULT_DB)


def default_view(status: Status, teams: Sequence[Team] = ()) -> View:
    """The view a page opens on before a filter is set (every day, by month, the first environment): the
    sidebar's defaults, and what the server's warm-up reads (dashboard/serve.py)."""
    return View(environment=status.environments[0], teams=tuple(teams))


def locate_scopes(argv: Sequence[str] | None = None) -> tuple[tuple[Team, ...], Goals]:
    """The teams and goals of dora.toml: `--teams JSON` after `streamlit run dashboard/app.py --`
    (metrics.goals.dump_scopes, as `dora dashboard` passes them); none without it."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--teams")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    return load_scopes(args.teams)


def find_snapshot(db_path: str | Path) -> Snapshot | None:
    """The snapshot beside the warehouse at `db_path`, or None if no writer has published one yet."""
    path = snapshot_path(db_path).resolve()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return Snapshot(str(path), stat.st_mtime_ns, stat.st_size)


class _Reader:
    """The process's one read-only connection to a published snapshot, shared by every session.

    Opening the 2.4 GB snapshot of the 1M-deployment warehouse costs 20–45 ms and starts with cold
    buffers, and a page makes a dozen queries: opened once per snapshot, later queries find its
    catalogue and the pages they read in memory (under core.db's reader memory cap). `users` counts
    the queries running on it, so a retired reader (a newer snapshot appeared) is closed only when the
    last of them ends. Holding the old file open never blocks the nightly writer: it writes the
    warehouse and swaps a new snapshot in with os.replace; the open file stays as it was opened.
    """

    def __init__(self, snap: Snapshot):
        # ATTACHed to a fresh in-memory database instead of opened with duckdb.connect(): DuckDB
        # shares one database instance per path within a process, so while the previous snapshot's
        # reader is still open, connect() would hand out that old file.
        self.snap = snap
        self.con = connect(":memory:")
        try:
            self.con.execute("ATTACH ? AS snapshot (READ_ONLY)", [snap.path])
        except BaseException:
            self.con.close()
            raise
        self.users = 0
        self.retired = False
        self.last_used = time.monotonic()


_reader: _Reader | None = None
_reader_lock = threading.Lock()
# A reader nobody has queried for this long is closed (close_idle_reader).
READER_IDLE_SECONDS = 300.0


def _acquire_reader(snap: Snapshot) -> tuple[_Reader, duckdb.DuckDBPyConnection]:
    """The shared reader for `snap` (opened when `snap` is newer than the open one, or another file)
    and a cursor of it for one query: DuckDB connections are not thread-safe, cursors are per thread."""
    global _reader
    with _reader_lock:
        current = _reader
        if current is None or (current.snap != snap and (current.snap.path != snap.path
                                                         or snap.mtime_ns >= current.snap.mtime_ns)):
            fresh = _Reader(snap)  # the old one stays in use if this fails (a broken file)
            if current is not None:
                current.retired = True
                if current.users == 0:
                    current.con.close()
            _reader = current = fresh
        # An older key of the same file (a session that has not refreshed yet) reads the open,
        # newer file, as opening the path would.
        cursor = current.con.cursor()
        current.users += 1
    return current, cursor


def _release_reader(reader: _Reader, cursor: duckdb.DuckDBPyConnection) -> None:
    with _reader_lock:
        cursor.close()
        reader.users -= 1
        reader.last_used = time.monotonic()
        if reader.retired and reader.users == 0:
            reader.con.close()


def close_idle_reader(now: float | None = None) -> bool:
    """Close the shared reader if no query has used it for READER_IDLE_SECONDS; True if it closed.

    The nightly writer brings the older of the snapshot's two files up to date in place, unless a
    reader still has that file open, when it copies the whole warehouse instead (seconds at 1M
    deployments; ingest.warehouse.publish_snapshot). A dashboard nobody looks at would hold its file
    until the next visit; closed when idle, it holds none. The next query opens it again (20–45 ms).
    """
    global _reader
    with _reader_lock:
        idle = _reader
        if idle is None or idle.users or (time.monotonic() if now is None else now) - idle.last_used < READER_IDLE_SECONDS:
            return False
        _reader = None
        idle.con.close()
    return True


def _close_idle_reader_forever() -> None:
    while True:
        time.sleep(READER_IDLE_SECONDS / 5)
        close_idle_reader()


threading.Thread(target=_close_idle_reader_forever, name="dora-close-idle-reader", daemon=True).start()


@contextmanager
def read_snapshot(snap: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only handle on the snapshot for one block of queries: a cursor of the process's shared
    connection to it (`_Reader`), closed when the block ends."""
    reader, cursor = _acquire_reader(snap)
    try:
        # per cursor: a cursor is a new session of the shared database, with its own settings
        cursor.execute("SET TimeZone = 'UTC'")
        cursor.execute("USE snapshot")
        yield cursor
    finally:
        _release_reader(reader, cursor)


def _parse_settings(raw: str | None) -> MetricSettings:
    """The MetricSettings a build recorded (build_info.settings), keeping only the fields this code knows."""
    if not raw:
        return MetricSettings()
    data = json.loads(raw)
    known = {f.name for f in dataclasses.fields(MetricSettings)}
    return MetricSettings(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})


@cached
def load_status(snap: Snapshot) -> Status:
    """Which tables exist, the build's settings, the data's date range, environments and services."""
    with read_snapshot(snap) as con:
        tables = frozenset(r[0] for r in run_sql(con, "dashboard", "status_tables").fetchall())
        built = run_sql(con, "dashboard", "status_build").fetchall() if "build_info" in tables else []
        settings = _parse_settings(built[0][1] if built else None)
        if "metric_periods" not in tables:
            return Status(tables, False, settings, None, None, None)
        rows = run_sql(con, "dashboard", "status_scopes").fetchall()
    if not rows:
        return Status(tables, False, settings, built[0][0] if built else None, None, None)
    services: dict[str, list[str]] = {}
    for environment, service, _, _ in rows:
        services.setdefault(environment, [])
        if service != "all":
            services[environment].append(service)
    return Status(
        tables=tables,
        has_metrics=True,
        settings=settings,
        built_at=built[0][0] if built else None,
        first_day=min(r[2] for r in rows),
        last_day=max(r[3] for r in rows),
        environments=tuple(services),
        services={e: tuple(s) for e, s in services.items()},
    )


def _filters(view: View, by_service: bool = False) -> Filters:
    """The view as the metrics layer's filters; several services are read one by one, never merged.
    A team without services picked asks for the team's own figures (metrics.teams)."""
    single = None if by_service else view.single_service
    team = view.team if view.team and not view.services and not by_service else None
    return Filters(grain=view.grain, from_date=view.from_date, to_date=view.to_date, service=single,
                   by_service=by_service or len(view.services) > 1, environment=view.environment,
                   team=team, teams=view.teams)


def load_team_services(snap: Snapshot, view: View) -> tuple[str, ...]:
    """The services of the view's team with data in its environment (NO_TEAM: those no team owns)."""
    return _load_team_services(snap, View(environment=view.environment, team=view.team, teams=view.teams))


@cached
def _load_team_services(snap: Snapshot, view: View) -> tuple[str, ...]:
    # keyed on what the answer depends on, not the view's grain or dates: read once per team
    with read_snapshot(snap) as con:
        return tuple(team_services(con, Filters(environment=view.environment, team=view.team, teams=view.teams)))


def scope_services(snap: Snapshot, view: View) -> tuple[str, ...] | None:
    """The services a list or a per-service table is limited to: those picked, else the team's (maybe
    none), else None — every service."""
    if view.services:
        return view.services
    return load_team_services(snap, view) if view.team else None


def services_view(snap: Snapshot, view: View) -> View:
    """The view for a page whose tables have no team figures (lead-time breakdown, batch size,
    pipeline): a team stands for its services, shown one by one — medians do not add up."""
    if view.team and not view.services:
        return view._replace(services=load_team_services(snap, view))
    return view


@cached
def load_summary(snap: Snapshot, view: View, by_service: bool = False) -> pd.DataFrame:
    """The metrics per period, exactly as `dora export` writes them (contract §3 columns first).

    Without services in the view: the organisation as a whole (service 'all'); with one: that
    service; with several, or `by_service`: one row per service and period, limited to the view's
    services when it names any. Medians do not add up, so several services are never merged here.
    """
    filters = _filters(view, by_service)
    if wants_team_figures(filters) and _every_team_ready(snap, view):
        frame = one_team_rows(load_every_team_summary(snap, every_team_view(view)), view)
        if frame is not None:
            return frame
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        frame = query_summary(con, filters, settings)
    limit = scope_services(snap, view) if by_service else view.services
    if limit is not None and (by_service or len(view.services) > 1):
        frame = frame[frame["service"].isin(limit)].reset_index(drop=True)
    return frame


def every_team_view(view: View) -> View:
    """What every team's figures depend on (load_every_team_summary's key): the view's grain, dates,
    environment and configured teams, not its team or services."""
    return View(grain=view.grain, from_date=view.from_date, to_date=view.to_date, environment=view.environment,
                teams=view.teams)


def _every_team_filters(view: View) -> Filters:
    return Filters(grain=view.grain, from_date=view.from_date, to_date=view.to_date, environment=view.environment,
                   by_team=True, teams=view.teams)


@cached
def load_every_team_summary(snap: Snapshot, view: View) -> pd.DataFrame:
    """Every configured team's figures per period (`dora export --by team`, metrics.teams), read in
    one pass: a team's own rows are the same as when read alone (the same SQL; each team's facts
    aggregated on their own), and picking a team then reads nothing (one_team_rows). At 1M
    deployments: 0.7 s of CPU for every team against 0.2 s for one, so it is read in the background
    (prefetch_picks), never while a page waits."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return query_summary(con, _every_team_filters(view), settings)


@cached
def load_every_team_levels(snap: Snapshot, view: View) -> pd.DataFrame:
    """Every configured team's DORA levels per period (metrics.levels, from load_every_team_summary's
    figures); empty where the build has no levels (a day, not production), as load_levels."""
    status = load_status(snap)
    if "metric_levels" not in status.tables:
        return pd.DataFrame()
    figures = load_every_team_summary(snap, view)
    try:
        with read_snapshot(snap) as con:
            return levels.query_levels(con, _every_team_filters(view), status.settings, team_figures=figures)
    except DoraError:
        return pd.DataFrame()


def one_team_rows(every: pd.DataFrame, view: View) -> pd.DataFrame | None:
    """The view's team's rows of every team's frame (its `team` column), as reading that team alone
    gives them; None when the frame cannot tell: "no team" is listed among every team only when some
    service has no team, while asked alone it has a row per period either way."""
    listed = set() if every.empty else set(every["team"])
    if view.team not in listed and view.team not in {t.name for t in view.teams}:
        return None
    return every if every.empty else every[every["team"] == view.team].reset_index(drop=True)


# (snapshot, every_team_view) -> when every team's figures were read (prefetch_picks), for this
# process; a pick reads them from the cache only while the cache still holds them (CACHE_TTL).
_every_team_read: dict[tuple, float] = {}


def _every_team_ready(snap: Snapshot, view: View) -> bool:
    read_at = _every_team_read.get((snap, every_team_view(view)))
    # a margin under the TTL: the cache keeps an entry CACHE_TTL from when it was written, a little earlier
    return read_at is not None and time.monotonic() - read_at < CACHE_TTL * 0.9


def load_freshness(snap: Snapshot) -> pd.DataFrame:
    """Per source (ingest origin): its last successful run, its last run's outcome, its newest event;
    the runs of a quiet night, kept beside the snapshot rather than copied into it, count too (the
    file they are kept in is part of the cache key: a quiet night changes no snapshot)."""
    try:
        kept = unpublished_runs_path(snap.path).stat().st_mtime_ns
    except OSError:
        kept = None
    return _load_freshness(snap, kept)


@cached
def _load_freshness(snap: Snapshot, kept: int | None) -> pd.DataFrame:
    with read_snapshot(snap) as con, register_table(con, "kept_runs", read_unpublished_runs(snap.path)):
        frame = run_sql(con, "dashboard", "freshness").df()
        for row, origin in enumerate(frame["origin"]):
            if origin not in OWN_TABLE_ORIGINS:  # raw events, counted one origin at a time (see the SQL)
                newest, events = run_sql(con, "dashboard", "freshness_events", {"origin": origin}).fetchall()[0]
                frame.loc[row, ["newest_event_at", "events"]] = [pd.Timestamp(newest) if newest else pd.NaT, events]
    return frame


OWN_TABLE_ORIGINS = ("annotations", "survey")  # sources whose records are not raw events (freshness.sql)


@cached
def load_records(snap: Snapshot, figure: str, grain: str, period_start: date, service: str,
                 environment: str, only: tuple[str, ...] | None = None) -> tuple[pd.DataFrame, dict]:
    """The records behind one figure (a summary column such as `change_failure_rate`), from the metrics
    layer's drill-down (`metrics.explain.explain_figure`): one row per record, whether it is counted,
    its value and the rule that linked it. Also returns the stored figure and how the rows make it.

    `only`: a team's services, for a team's figure (service 'all'): the organisation's records of
    those services; the figure is then the team's, recomputed, as no table stores it."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        frame = explain.explain_figure(con, figure, grain, period_start, service, environment, settings)
        about = dict(frame.attrs)
        if only is not None:
            frame = frame[frame["service"].isin(only)].reset_index(drop=True)
            frame.attrs = dict(about)
            about["figure"] = None
        if "deployment_key" in frame.columns:  # changes, commit, exposure: their own columns for the CSV
            extra = run_sql(con, "dashboard", "record_deployments",
                            {"keys": frame["deployment_key"].astype("int64").tolist()}).df()
            frame = frame.merge(extra, on="deployment_key", how="left")
            # explain names a rule only for failed deployments: say why the others count
            frame["rule"] = frame["rule"].where(frame["rule"].fillna("") != "", DEPLOYMENT_COUNTED)
            frame.attrs = dict(about)
    about["recomputed"] = explain.compute_figure(frame)
    about["how"] = explain.describe_stat(frame)
    frame.attrs = {}
    return frame, about


DEPLOYMENT_COUNTED = "finished in production in this period; not rolled back, no incident attributed"


def _range_params(snap: Snapshot, view: View, settings: MetricSettings) -> dict:
    services = scope_services(snap, view)
    return {"environment": view.environment, "from_date": view.from_date, "to_date": view.to_date,
            "services": None if services is None else list(services), "timezone": settings.timezone}



LIST_LIMIT = 5_000  # rows a page lists and plots; the CSV download has them all


def _view_query(snap: Snapshot, view: View, name: str, extra: dict | None = None) -> pd.DataFrame:
    """dashboard/sql/<name>.sql on the snapshot, with the view's filters (and `extra`) as parameters."""
    with read_snapshot(snap) as con:
        params = {**_range_params(snap, view, load_status(snap).settings), **(extra or {})}
        return run_sql(con, "dashboard", name, params).df()


@cached
def load_incidents(snap: Snapshot, view: View, limit: int = LIST_LIMIT) -> tuple[dict, pd.DataFrame]:
    """Incidents that started in the view's days: how many (all, resolved, attributed to a deployment),
    and the newest `limit` with recovery time and the deployment they are attributed to (and why)."""
    counts = _view_query(snap, view, "incident_counts")
    rows = _view_query(snap, view, "incidents", {"limit": limit})
    return {k: int(v) for k, v in counts.iloc[0].items()}, rows


def read_incidents(snap: Snapshot, view: View) -> pd.DataFrame:
    """Every incident of the view (uncached: for a CSV download, read when it is clicked)."""
    return _view_query(snap, view, "incidents", {"limit": None})


@cached
def load_failures(snap: Snapshot, view: View, limit: int = LIST_LIMIT) -> tuple[int, pd.DataFrame]:
    """Failed deployments finished in the view's days: how many, and the newest `limit` with why they
    count as failed and how they recovered."""
    rows = _view_query(snap, view, "failures", {"limit": limit})
    return load_failure_count(snap, view), rows


@cached
def load_failure_count(snap: Snapshot, view: View) -> int:
    """How many failed deployments finished in the view's days (the rows load_failures lists): what a
    page shows before it lists them, if it does (90 ms of the 1M snapshot's list not read for it)."""
    return int(_view_query(snap, view, "failure_count")["failures"].iloc[0])


def read_failures(snap: Snapshot, view: View) -> pd.DataFrame:
    """Every failed deployment of the view (uncached: for a CSV download)."""
    return _view_query(snap, view, "failures", {"limit": None})


@cached
def load_incident_periods(snap: Snapshot, view: View) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per period of the view's grain and severity: incidents (by their start) and failed deployments
    (by their finish, under their most severe incident's severity)."""
    extra = {"grain": view.grain}
    return (_view_query(snap, view, "incidents_by_period", extra),
            _view_query(snap, view, "incidents_failures_by_period", extra))


@cached
def load_impossible_recoveries(snap: Snapshot, view: View) -> pd.DataFrame:
    """Incidents and failed deployments of the view with a negative recovery time (data errors)."""
    return _view_query(snap, view, "incidents_impossible")


@cached
def load_finding_counts(snap: Snapshot, view: View) -> pd.DataFrame:
    """Data-quality findings (dq_findings) in the view, counted per finding, most frequent first."""
    return _view_query(snap, view, "finding_counts")


@cached
def load_finding_examples(snap: Snapshot, view: View, finding: str | None = None,
                          per_finding: int = 20) -> pd.DataFrame:
    """The newest `per_finding` rows of each finding in the view (or of one finding)."""
    return _view_query(snap, view, "findings", {"finding": finding, "per_finding": per_finding})


def read_findings(snap: Snapshot, view: View, finding: str | None = None) -> pd.DataFrame:
    """Every finding row of the view (or of one finding), uncached: for a CSV download."""
    return _view_query(snap, view, "findings", {"finding": finding, "per_finding": None})


@cached
def load_rejects(snap: Snapshot, limit: int = 200) -> tuple[int, pd.DataFrame]:
    """How many records were rejected at ingest, and the newest `limit` of them with the reason."""
    with read_snapshot(snap) as con:
        total = run_sql(con, "dashboard", "reject_count").fetchall()[0][0]
        frame = run_sql(con, "dashboard", "rejects", {"limit": limit}).df()
    return total, frame


def _only_view_services(frame: pd.DataFrame, view: View, column: str = "service") -> pd.DataFrame:
    if view.services and len(view.services) > 1:
        frame = frame[frame[column].isin(view.services)].reset_index(drop=True)
    return frame


@cached
def load_levels(snap: Snapshot, view: View) -> pd.DataFrame:
    """DORA levels per period and metric for the view's scope (metrics.levels), in the report the
    build's settings name; empty when the build has none for the view (a day, not production)."""
    status = load_status(snap)
    if "metric_levels" not in status.tables:
        return pd.DataFrame()
    filters = _filters(view)
    if wants_team_figures(filters) and _every_team_ready(snap, view):
        frame = one_team_rows(load_every_team_levels(snap, every_team_view(view)), view)
        if frame is not None:
            return frame
    # a team's levels are classified from its figures: the cards' own (load_summary, same filters),
    # not computed a second time
    figures = load_summary(snap, view) if wants_team_figures(filters) else None
    try:
        with read_snapshot(snap) as con:
            frame = levels.query_levels(con, filters, status.settings, team_figures=figures)
    except DoraError:  # levels exist for production by week, month or quarter only: no badge otherwise
        return pd.DataFrame()
    return _only_view_services(frame, view)


@cached
def load_annotations(snap: Snapshot, view: View) -> pd.DataFrame:
    """Annotations (dated process changes) that apply to the view: the organisation's, and the
    selected services' own (a team's services' own); columns id, name, starts_on, service, description."""
    if "annotations" not in load_status(snap).tables:
        return pd.DataFrame(columns=["id", "name", "starts_on", "service", "description"])
    return _annotations_of(snap, scope_services(snap, view))


@cached
def load_every_annotation(snap: Snapshot) -> pd.DataFrame:
    """Every annotation, as metrics.compare.query_annotations lists them, read once per snapshot: a
    view's or a scope's are chosen from it (load_annotations, scope_annotations) instead of being
    read again for each (30 ms a read on the 1M-deployment snapshot, twice a pick)."""
    with read_snapshot(snap) as con:
        return compare.query_annotations(con)


def scope_annotations(snap: Snapshot, scope: compare.Scope) -> pd.DataFrame:
    """The annotations that apply to `scope` (compare_scope), as metrics.compare.query_annotations(con,
    scope, every_service=False) gives them: the organisation's, and its service's or its team's
    services' own, in the same order (a subset of every annotation's, which are in date order)."""
    return _annotations_of(snap, compare.as_scope(scope).services)


def _annotations_of(snap: Snapshot, services: tuple[str, ...] | None) -> pd.DataFrame:
    """The organisation's annotations and those of `services` (None: none but the organisation's), in
    load_every_annotation's order."""
    every = load_every_annotation(snap)
    keep = every["service"].isna() | every["service"].isin(services or ())
    return every[keep].reset_index(drop=True)


@cached
def load_breakdown(snap: Snapshot, view: View, by_service: bool = False) -> pd.DataFrame:
    """The lead-time breakdown per period (coding, pickup, review, deploy wait), as `dora export
    --table lead-time-breakdown` writes it."""
    status = load_status(snap)
    with read_snapshot(snap) as con:
        frame = insight_tables.query_lead_time_breakdown(con, _filters(view, by_service), status.settings)
    return _only_view_services(frame, view)


STAGE_SAMPLE = 20_000  # changes drawn for the distribution chart: enough for its shape, fast at any size


@cached
def load_stage_spans(snap: Snapshot, view: View) -> tuple[int, pd.DataFrame]:
    """Each change's breakdown spans (fct_change_stages) in the view, for the distribution chart: how
    many changes there are, and up to STAGE_SAMPLE of them (a reproducible random sample)."""
    params = _range_params(snap, view, load_status(snap).settings)
    with read_snapshot(snap) as con:
        total = run_sql(con, "dashboard", "stage_span_count", params).fetchall()[0][0]
        bound = sample_bound(total, STAGE_SAMPLE)
        frame = run_sql(con, "dashboard", "stage_spans", {**params, "limit": STAGE_SAMPLE, "max_key": bound}).df()
        if bound is not None and len(frame) < STAGE_SAMPLE:  # fewer hashes under the bound than drawn (rare)
            frame = run_sql(con, "dashboard", "stage_spans", {**params, "limit": STAGE_SAMPLE, "max_key": None}).df()
    return total, frame


SAMPLE_MARGIN = 3  # how many times the sample's size a hash bound lets through, on average


def sample_bound(total: int, limit: int) -> int | None:
    """An upper bound on the 64-bit hashes of a `limit` sample of `total` rows, ordered by hash
    (stage_spans.sql), that SAMPLE_MARGIN × `limit` rows pass on average (hashes are uniform); None
    when the rows are too few for a bound to save anything."""
    if total <= SAMPLE_MARGIN * limit:
        return None
    return (2 ** 64 * SAMPLE_MARGIN * limit) // total


@cached
def load_batches(snap: Snapshot, view: View) -> pd.DataFrame:
    """Change fail rate, recovery and lead time by batch size and cadence bucket per period, as
    `dora export --table batch-size` writes it."""
    status = load_status(snap)
    with read_snapshot(snap) as con:
        frame = insight_tables.query_batch_size(con, _filters(view), status.settings)
    return _only_view_services(frame, view)


@cached
def load_batch_records(snap: Snapshot, grain: str, period_start: date, service: str, environment: str,
                       dimension: str, bucket: str) -> pd.DataFrame:
    """The deployments of one batch bucket in one period (fct_deployment_batches), failed first."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return run_sql(con, "dashboard", "batch_records", {
            "environment": environment, "service": service, "dimension": dimension, "bucket": bucket,
            "grain": grain, "period_start": period_start, "timezone": settings.timezone}).df()


@cached
def load_pipeline(snap: Snapshot, view: View) -> pd.DataFrame:
    """Pipeline health per period and stage, as `dora export --table pipeline` writes it (empty
    without pipeline runs)."""
    status = load_status(snap)
    if "metric_pipeline" not in status.tables:
        return pd.DataFrame()
    with read_snapshot(snap) as con:
        if not run_sql(con, "dashboard", "pipeline_row_count").fetchall()[0][0]:
            return pd.DataFrame()
        known = insight_tables.list_pipeline_services(con)
        services = tuple(s for s in view.services if s in known)
        if view.services and not services:
            return pd.DataFrame()
        frame = insight_tables.query_pipeline(con, _filters(view._replace(services=services)), status.settings)
    return _only_view_services(frame, view._replace(services=services))


def compare_scope(snap: Snapshot, view: View, service: str | None = None) -> compare.Scope:
    """What a window comparison of the view (before/after, the story, a card against its baseline)
    covers, as metrics.compare's Scope (hashable: the cached loaders below key on it): `service` (one
    card's), else the one service picked, else the view's team — its services' facts together, with
    several of them picked too — else the organisation (several services picked without a team)."""
    service = service or view.single_service
    if service:
        return compare.Scope((service,))
    if view.team:
        return compare.Scope(load_team_services(snap, view), view.team)
    return compare.Scope()


@cached
def load_data_span(snap: Snapshot, scope: compare.Scope) -> tuple[date, date] | None:
    """The first and last day with events (the scope's: compare_scope), as before/after clips its
    windows: metrics.compare.data_span's days. A service's or a team's from every service's span,
    read once per snapshot (load_service_spans), instead of scanning the scope's events for each."""
    settings, scope = load_status(snap).settings, compare.as_scope(scope)
    spans = load_service_spans(snap) if scope.services is not None else None  # the organisation's: not needed
    with read_snapshot(snap) as con:
        return compare.data_span(con, settings, scope, spans)


@cached
def load_service_spans(snap: Snapshot) -> pd.DataFrame:
    """Every service's first and last instant with data, as metrics.compare.data_span counts them
    (metrics.compare.read_service_spans): what load_data_span makes a scope's days of."""
    with read_snapshot(snap) as con:
        return compare.read_service_spans(con)


@cached
def load_comparison(snap: Snapshot, before: tuple[date, date], after: tuple[date, date], scope: compare.Scope,
                    environment: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Before/after (metrics.compare) for `scope` (compare_scope): the results table, and the values
    behind its medians and means — from the same rows, read once."""
    settings = load_status(snap).settings
    first, second = compare.Window(*before, "before"), compare.Window(*after, "after")
    span = load_data_span(snap, scope)
    with read_snapshot(snap) as con:
        table, read = compare.compare_with_values(con, first, second, settings, scope, environment, span=span)
    return table, compare.distribution_values(read)


@cached
def load_story(snap: Snapshot, scope: compare.Scope, environment: str) -> pd.DataFrame:
    """The phase story (metrics.story) of `scope` (compare_scope) in long form: one row per window
    (the baseline, then each phase between annotations) and metric, with each phase's change against
    the baseline."""
    settings = load_status(snap).settings
    span = load_data_span(snap, scope)  # a team's from every service's: its events not scanned again
    with read_snapshot(snap) as con:
        return story.query_story_long(con, settings, scope, environment, span=span)


@cached
def load_survey(snap: Snapshot, view: View) -> pd.DataFrame:
    """Developer satisfaction per period (metrics.survey): everyone's (team 'all'), or the view's
    team's answers (matched by the team's name); empty without survey responses."""
    if "survey_responses" not in load_status(snap).tables:
        return pd.DataFrame()
    if view.team == NO_TEAM:  # answers carry a team's name: none is "no team"'s
        return pd.DataFrame()
    with read_snapshot(snap) as con:
        if not run_sql(con, "dashboard", "survey_response_count").fetchall()[0][0]:
            return pd.DataFrame()
        try:
            return survey.query_survey(con, Filters(grain=view.grain, from_date=view.from_date,
                                                    to_date=view.to_date, service=view.team))
        except DoraError:  # the team has no survey answers
            return pd.DataFrame()


@cached
def load_pipeline_runs(snap: Snapshot, grain: str, period_start: date, service: str) -> pd.DataFrame:
    """The pipeline runs of one period (fct_pipeline_runs; a run belongs to the period of its start),
    slowest first."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return run_sql(con, "dashboard", "pipeline_runs", {
            "service": service, "grain": grain, "period_start": period_start, "timezone": settings.timezone}).df()


@cached
def load_annotation_windows(snap: Snapshot, before_ref: str, after_ref: str,
                            scope: compare.Scope) -> tuple[tuple[date, date], tuple[date, date]]:
    """Before/after windows from two annotations (metrics.compare) that apply to `scope`
    (compare_scope): the days before `before_ref` since the previous annotation, and the days from
    `after_ref` to the next one."""
    settings = load_status(snap).settings
    span = load_data_span(snap, scope)
    found = scope_annotations(snap, scope)
    with read_snapshot(snap) as con:
        before = compare.window_before_annotation(con, before_ref, settings, scope, found=found, span=span)
        after = compare.window_after_annotation(con, after_ref, settings, scope, found=found, span=span)
    return (before.start, before.end), (after.start, after.end)


class Baseline(NamedTuple):
    """A window the Overview's cards are compared with: what it is called, and its days."""

    label: str
    start: date
    end: date


@cached
def load_baselines(snap: Snapshot, scope: compare.Scope) -> dict[str, Baseline]:
    """The windows a card can be compared with, by the id a URL names them (metrics.compare's
    annotation windows): 'before' — the days with data before the first annotation — and each
    annotation's id — its start to the day before the next one. Annotations that apply to `scope`
    (compare_scope: the organisation's, and its service's or its team's services' own); windows
    without a day of data are left out."""
    settings = load_status(snap).settings
    windows: dict[str, Baseline] = {}
    span = load_data_span(snap, scope)  # read once for every window (a team's: 0.1 s each)
    notes = scope_annotations(snap, scope)
    with read_snapshot(snap) as con:
        for position, note in enumerate(notes.itertuples()):  # a handful of annotations
            try:
                if position == 0:
                    before = compare.window_before_annotation(con, str(note.id), settings, scope, found=notes,
                                                              span=span)
                    windows["before"] = Baseline(f"before {note.name}", before.start, before.end)
                after = compare.window_after_annotation(con, str(note.id), settings, scope, found=notes, span=span)
                windows[str(note.id)] = Baseline(note.name, after.start, after.end)
            except DoraError:  # no day of data in that window
                continue
    return windows


# The cards' metrics as metrics.compare compares them (the survey is not on a card).
CARD_COMPARISONS = tuple(spec for spec in compare.METRICS if spec.metric != "developer_satisfaction")


@cached
def load_baseline_comparison(snap: Snapshot, baseline: tuple[date, date], current: tuple[date, date],
                             scope: compare.Scope, environment: str) -> tuple[pd.DataFrame | None, str | None]:
    """The cards' metrics of `scope` (compare_scope: a card's service, the team, the organisation) in
    `baseline` against `current` (metrics.compare.compare_windows: values, change and the verdict
    that respects the data's own variation); or None and the reason there is no comparison (the
    windows overlap, no data)."""
    settings = load_status(snap).settings
    scope, environment = compare.as_scope(scope), environment_group(environment, settings)
    span = load_data_span(snap, scope)  # the baselines' own (load_baselines): not scanned again
    with read_snapshot(snap) as con:
        try:
            before, after = compare.check_windows(con, compare.Window(*baseline, "baseline"),
                                                  compare.Window(*current, "current"), settings, scope, True, span)
            kept = _read_baseline(snap, (before.start, before.end), scope, environment)
            now = compare.read_window(con, "after", after, settings, scope, environment, CARD_COMPARISONS)
            return compare.compare_read(kept, now, scope, environment, specs=CARD_COMPARISONS), None
        except DoraError as exc:
            return None, str(exc)


# Kept as they are (cache_resource: not copied out on every hit), so the quantile estimates made on
# first use stay with them. The organisation's baseline of the 1M-deployment warehouse is about a
# million lead times (~30 MB); a few scopes' at a time.
@st.cache_resource(ttl=CACHE_TTL, max_entries=8, show_spinner=False, hash_funcs={compare.Scope: _key_text})
def _read_baseline(snap: Snapshot, window: tuple[date, date], scope: compare.Scope,
                   environment: str) -> compare.ReadWindow:
    """The baseline window's rows and estimates for the cards' comparisons (load_baseline_comparison):
    read once for every period and grain it is compared with (the page's own and the prefetched
    ones), where each comparison read it again (0.3 s of the organisation's 0.45 s at 1M)."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return compare.read_window(con, "before", compare.Window(*window, "baseline"), settings, scope, environment,
                                   CARD_COMPARISONS)


_prefetched: set[tuple] = set()
_prefetch_lock = threading.Lock()


def prefetch_grains(snap: Snapshot, view: View, *, by_service: bool = False,
                    then: Callable[[View], None] | None = None, tag: str = "") -> None:
    """Compute the view at the other grains in the background, so switching the period is a cache hit.

    Called after a page has drawn; the work runs in the prefetch thread (run_in_background; DuckDB
    releases the GIL) while the reader looks at the page. Each (snapshot, view, tag) is prefetched once per process. `then`:
    the page's own further loads for the view at each other grain (`tag` names what they depend on
    beyond the view, e.g. the Overview's baseline).
    """
    key = (snap, view._replace(grain=""), by_service, tag)
    with _prefetch_lock:
        if key in _prefetched:
            return
        _prefetched.add(key)

    def work() -> None:
        # called exactly as the pages call them: st.cache_data keys on the arguments as passed
        for grain in GRAINS:
            if grain != view.grain and is_current(snap):
                if by_service:
                    load_summary(snap, view._replace(grain=grain), by_service=True)
                else:
                    load_summary(snap, view._replace(grain=grain))
                    load_levels(snap, view._replace(grain=grain))
                if then is not None:
                    then(view._replace(grain=grain))

    run_in_background(work)


def prefetch_picks(snap: Snapshot, view: View) -> None:
    """Read in the background (the prefetch queue) what picking a service or a team needs whatever is
    picked: every service's data span (the cards' baselines are clipped to it), and, when teams are
    configured and none is chosen, every team's figures and levels (read_every_team) at the grain the
    page is first drawn at. Once per snapshot, dates and environment: 0.6-1.1 s of CPU at 1M
    deployments, which a reader clicking through the periods would otherwise spend again at each,
    beside the pages it draws (a team picked at another period reads its own, 0.2 s); a request
    still queued when a newer one comes is dropped."""
    global _latest_picks
    teams = bool(view.teams) and not view.team and not view.services
    # `teams` in the key: a view with a team or service picked reads the spans only, so it must not
    # stand for the same view with none picked, which reads every team too
    key = (snap, every_team_view(view)._replace(grain=""), "picks", teams)
    with _prefetch_lock:
        if key in _prefetched:
            return
        _prefetched.add(key)
        _latest_picks = key

    def work() -> None:
        with _prefetch_lock:
            if _latest_picks != key:  # another view asked since: its pick is likelier
                _prefetched.discard(key)
                return
        if is_current(snap):
            load_service_spans(snap)
        if teams and is_current(snap):
            read_every_team(snap, view)

    run_in_background(work)


def read_every_team(snap: Snapshot, view: View) -> None:
    """Read every team's figures and levels at the view's grain (load_every_team_summary and _levels):
    from then on a team picked at that grain takes its rows from them (load_summary, load_levels)."""
    load_every_team_summary(snap, every_team_view(view))
    load_every_team_levels(snap, every_team_view(view))
    _every_team_read[(snap, every_team_view(view))] = time.monotonic()


def is_current(snap: Snapshot) -> bool:
    """Whether `snap` is still the published snapshot: prefetching for one a writer has replaced since
    would only take the CPU from the pages reading the new one."""
    try:
        stat = os.stat(snap.path)
    except OSError:
        return False
    return (stat.st_mtime_ns, stat.st_size) == (snap.mtime_ns, snap.size)


_latest_picks: tuple | None = None  # the view prefetch_picks was last asked for: older ones still queued are skipped
_background_jobs: queue.SimpleQueue = queue.SimpleQueue()
_background_worker: threading.Thread | None = None
_background_pending = 0  # jobs queued or running
_background_done = threading.Condition()


def run_in_background(job: Callable[[], None]) -> None:
    """Run `job` in the process's one prefetch thread, after the jobs queued before it. One at a time:
    the page being drawn (or the next click) always has a core of the two to itself, and each job
    finds what the ones before it read in the cache."""
    global _background_worker, _background_pending
    with _background_done:
        _background_pending += 1
    _background_jobs.put(job)
    with _prefetch_lock:
        if _background_worker is None or not _background_worker.is_alive():
            _background_worker = threading.Thread(target=_run_background_jobs, name="dora-prefetch", daemon=True)
            _background_worker.start()


def _run_background_jobs() -> None:
    global _background_pending
    while True:
        job = _background_jobs.get()
        try:
            job()
        except Exception:  # noqa: BLE001 - a prefetch that fails leaves the next click to read it, nothing more
            traceback.print_exc()
        finally:
            with _background_done:
                _background_pending -= 1
                _background_done.notify_all()


def wait_for_prefetch(timeout: float | None = None) -> bool:
    """Wait until every job queued by run_in_background has run (for tests and benchmarks: what a
    reader's next click finds read); False if `timeout` seconds passed first."""
    with _background_done:
        return _background_done.wait_for(lambda: _background_pending == 0, timeout)
