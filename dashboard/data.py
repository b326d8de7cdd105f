"""The dashboard's one data-access module: everything it shows is read here, from the read snapshot.

Reads never block writes. DuckDB lets a file have one writing process or many reading ones, never
both, so the dashboard never opens the warehouse itself: it opens only the snapshot every writer
publishes after it commits (`ingest.warehouse.publish_snapshot`), read-only, for one query at a
time (connect, query, close). A nightly ingest therefore never fails because the dashboard is open,
and the dashboard keeps serving while it runs.

New data appears without a restart: every cached function takes the `Snapshot` — the file's path,
modification time and size — as its first argument, so a newly published snapshot is a new cache
key, while an unchanged one is served from the cache (`st.cache_data`, bounded by a TTL).

The numbers come from the metrics layer (`metrics.export.query_summary` and the tables the metric
models build); this module selects and filters, it does not compute metrics.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

import duckdb
import pandas as pd
import streamlit as st

from dora.config import load_config
from ingest.warehouse import snapshot_path
from metrics.build import MetricSettings
from metrics.export import Filters, query_summary

CACHE_TTL = 600  # seconds: a bound on memory, not on freshness (the snapshot key takes care of that)
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
    services: tuple[str, ...] = ()   # () = the whole organisation
    environment: str = "production"


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


def locate_warehouse(argv: Sequence[str] | None = None) -> Path:
    """The warehouse path: `--db` after `streamlit run dashboard/app.py --`, else `dora` config's.

    `dora dashboard --db PATH` passes its path this way; without one, the same precedence as every
    `dora` command applies ($DORA_DB, then [warehouse] path in dora.toml, then data/dora.duckdb).
    """
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--config")
    args, _ = parser.parse_known_args(list(sys.argv[1:] if argv is None else argv))
    return load_config(args.config, args.db).db_path


def find_snapshot(db_path: str | Path) -> Snapshot | None:
    """The snapshot beside the warehouse at `db_path`, or None if no writer has published one yet."""
    path = snapshot_path(db_path).resolve()
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return Snapshot(str(path), stat.st_mtime_ns, stat.st_size)


@contextmanager
def read_snapshot(snap: Snapshot) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived read-only connection to the snapshot, closed when the block ends.

    The file is ATTACHed to a fresh in-memory database instead of opened with duckdb.connect():
    DuckDB shares one database instance per path within a process, so while another session's
    connection to the previous snapshot is still open, connect() would hand out that old file.
    """
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")  # stored and computed in UTC, as in ingest.warehouse
        con.execute("ATTACH ? AS snapshot (READ_ONLY)", [snap.path])
        con.execute("USE snapshot")
        yield con
    finally:
        con.close()


def _parse_settings(raw: str | None) -> MetricSettings:
    if not raw:
        return MetricSettings()
    data = json.loads(raw)
    return MetricSettings(
        tuple(data.get("production_environments", ("production", "prod"))),
        int(data.get("attribution_window_hours", 24)),
        data.get("timezone", "UTC"),
    )


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_status(snap: Snapshot) -> Status:
    """Which tables exist, the build's settings, the data's date range, environments and services."""
    with read_snapshot(snap) as con:
        tables = frozenset(r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = 'snapshot'").fetchall())
        built = con.execute("SELECT built_at, settings::VARCHAR FROM build_info").fetchall() \
            if "build_info" in tables else []
        settings = _parse_settings(built[0][1] if built else None)
        if "metric_periods" not in tables:
            return Status(tables, False, settings, None, None, None)
        rows = con.execute(
            """
            SELECT environment, service, min(period_start), max(period_start)
            FROM metric_periods WHERE grain = 'day'
            GROUP BY environment, service
            ORDER BY environment <> 'production', environment, service
            """
        ).fetchall()
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


def _summary_filters(view: View, by_service: bool) -> Filters:
    single = view.services[0] if len(view.services) == 1 and not by_service else None
    return Filters(grain=view.grain, from_date=view.from_date, to_date=view.to_date, service=single,
                   by_service=by_service or len(view.services) > 1, environment=view.environment)


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_summary(snap: Snapshot, view: View, by_service: bool = False) -> pd.DataFrame:
    """The metrics per period, exactly as `dora export` writes them (contract §3 columns first).

    Without services in the view: the organisation as a whole (service 'all'); with one: that
    service; with several, or `by_service`: one row per service and period, limited to the view's
    services when it names any. Medians do not add up, so several services are never merged here.
    """
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        frame = query_summary(con, _summary_filters(view, by_service), settings)
    if view.services and (by_service or len(view.services) > 1):
        frame = frame[frame["service"].isin(view.services)].reset_index(drop=True)
    return frame


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_freshness(snap: Snapshot) -> pd.DataFrame:
    """Per source (ingest origin): its last successful run, its last run's outcome, its newest event."""
    with read_snapshot(snap) as con:
        return con.execute(
            """
            WITH runs AS (
                SELECT origin,
                    max(finished_at) FILTER (WHERE outcome <> 'failed')         AS last_success_at,
                    arg_max(outcome, run_id)                                    AS last_outcome,
                    arg_max(finished_at, run_id)                                AS last_run_at,
                    arg_max(message, run_id)                                    AS last_message,
                    count(*)                                                    AS runs
                FROM ingest_runs GROUP BY origin
            ),
            newest AS (
                SELECT origin, max(occurred_at) AS newest_event_at, count(*) AS events
                FROM raw_events GROUP BY origin
            )
            SELECT r.origin, r.last_success_at, r.last_outcome, r.last_run_at, r.last_message, r.runs,
                   n.newest_event_at, coalesce(n.events, 0) AS events
            FROM runs r LEFT JOIN newest n USING (origin)
            ORDER BY r.origin
            """
        ).df()


# The records behind one figure (metric × period × service). Period membership is the metric
# models': a deployment belongs to the period of its finish in the build's time zone, a change to
# the period of the deployment that first shipped it, an incident to the period it started.
_DEPLOYMENT_RECORDS = """
SELECT d.deployment_id, d.service, d.finished_at, d.started_at, d.commit_sha AS commit,
       (SELECT count(*) FROM fct_deployment_changes c WHERE c.deployment_key = d.deployment_key) AS changes,
       d.unplanned, f.deployment_key IS NOT NULL AS failed, f.reason AS failure_reason,
       f.incident_ids, f.recovery_minutes, f.recovery_rule
FROM fct_deployments d
LEFT JOIN fct_failures f USING (deployment_key)
WHERE d.environment = $environment
  AND ($service = 'all' OR d.service = $service)
  AND date_trunc($grain, d.finished_at AT TIME ZONE $timezone)::DATE = $period_start
ORDER BY failed DESC, d.unplanned DESC, d.finished_at, d.service, d.deployment_id
"""

_LEAD_TIME_RECORDS = """
SELECT l.change_id, c.title, c.author, l.service, l.lead_time_hours, l.lead_start_field,
       l.lead_started_at, c.merged_at, l.delivered_at, d.deployment_id, dc.rule AS link_rule
FROM fct_lead_times l
JOIN fct_deployments d USING (deployment_key)
LEFT JOIN fct_changes c USING (change_id)
LEFT JOIN fct_deployment_changes dc ON dc.deployment_key = l.deployment_key AND dc.change_id = l.change_id
WHERE l.environment = $environment
  AND ($service = 'all' OR l.service = $service)
  AND l.lead_time_hours >= 0
  AND date_trunc($grain, l.delivered_at AT TIME ZONE $timezone)::DATE = $period_start
ORDER BY l.lead_time_hours DESC, l.change_id
"""

_INCIDENT_RECORDS = """
SELECT i.incident_id, i.service, i.severity, i.started_at, i.resolved_at, i.recovery_minutes,
       d.deployment_id AS attributed_to, i.attribution_rule
FROM fct_incidents i
LEFT JOIN fct_deployments d USING (deployment_key)
WHERE i.environment = $environment
  AND i.started_at IS NOT NULL
  AND (($service = 'all') OR i.service = $service)
  AND date_trunc($grain, i.started_at AT TIME ZONE $timezone)::DATE = $period_start
ORDER BY i.recovery_minutes DESC NULLS FIRST, i.started_at, i.incident_id
"""

RECORD_KINDS = {
    "deploy_frequency": "deployments",
    "change_fail_rate": "deployments",
    "rework_rate": "deployments",
    "deploy_recovery": "deployments",
    "lead_time": "changes",
    "incident_recovery": "incidents",
}
_RECORD_SQL = {"deployments": _DEPLOYMENT_RECORDS, "changes": _LEAD_TIME_RECORDS, "incidents": _INCIDENT_RECORDS}


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_records(snap: Snapshot, metric_key: str, grain: str, period_start: date, service: str,
                 environment: str) -> pd.DataFrame:
    """The records behind one figure: deployments, changes or incidents of that period and service."""
    kind = RECORD_KINDS[metric_key]
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        frame = con.execute(_RECORD_SQL[kind], {
            "environment": environment, "service": service, "grain": grain,
            "period_start": period_start, "timezone": settings.timezone,
        }).df()
    if metric_key == "deploy_recovery":
        frame = frame[frame["failed"] & frame["recovery_minutes"].ge(0)].reset_index(drop=True)
    return frame


def _range_params(view: View, settings: MetricSettings) -> dict:
    services = list(view.services) or None
    return {"environment": view.environment, "from_date": view.from_date, "to_date": view.to_date,
            "services": services, "timezone": settings.timezone}


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_incidents(snap: Snapshot, view: View) -> pd.DataFrame:
    """Incidents that started in the view's days, with recovery time and the deployment they are attributed to."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return con.execute(
            """
            SELECT i.incident_id, i.service, i.severity, i.started_at, i.resolved_at, i.recovery_minutes,
                   d.deployment_id AS attributed_to, d.finished_at AS attributed_deployment_finished_at,
                   i.attribution_rule, i.caused_by_deployment, i.caused_by_commit
            FROM fct_incidents i
            LEFT JOIN fct_deployments d USING (deployment_key)
            WHERE i.environment = $environment AND i.started_at IS NOT NULL
              AND ($services IS NULL OR list_contains($services, i.service))
              AND ($from_date IS NULL OR (i.started_at AT TIME ZONE $timezone)::DATE >= $from_date)
              AND ($to_date IS NULL OR (i.started_at AT TIME ZONE $timezone)::DATE <= $to_date)
            ORDER BY i.started_at DESC, i.incident_id
            """,
            _range_params(view, settings),
        ).df()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_failures(snap: Snapshot, view: View) -> pd.DataFrame:
    """Failed deployments finished in the view's days: why they count as failed and how they recovered."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return con.execute(
            """
            SELECT f.deployment_id, f.service, f.finished_at, d.commit_sha AS commit, d.unplanned,
                   f.reason, f.rolled_back_at, f.incident_ids, f.recovered_at, f.recovery_rule,
                   f.recovery_minutes
            FROM fct_failures f
            JOIN fct_deployments d USING (deployment_key)
            WHERE f.environment = $environment
              AND ($services IS NULL OR list_contains($services, f.service))
              AND ($from_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE >= $from_date)
              AND ($to_date IS NULL OR (f.finished_at AT TIME ZONE $timezone)::DATE <= $to_date)
            ORDER BY f.finished_at DESC, f.deployment_id
            """,
            _range_params(view, settings),
        ).df()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_findings(snap: Snapshot, view: View) -> pd.DataFrame:
    """Data-quality findings (dq_findings) in the view: findings without a service or time always show
    when no service is selected; with services selected, only theirs."""
    settings = load_status(snap).settings
    with read_snapshot(snap) as con:
        return con.execute(
            """
            SELECT finding, entity_type, entity_id, service, environment, occurred_at, detail
            FROM dq_findings
            WHERE (environment IS NULL OR environment = $environment)
              AND ($services IS NULL OR list_contains($services, service))
              AND ($from_date IS NULL OR occurred_at IS NULL
                   OR (occurred_at AT TIME ZONE $timezone)::DATE >= $from_date)
              AND ($to_date IS NULL OR occurred_at IS NULL
                   OR (occurred_at AT TIME ZONE $timezone)::DATE <= $to_date)
            ORDER BY finding, occurred_at DESC NULLS LAST, entity_id
            """,
            _range_params(view, settings),
        ).df()


@st.cache_data(ttl=CACHE_TTL, show_spinner=False)
def load_rejects(snap: Snapshot, limit: int = 200) -> tuple[int, pd.DataFrame]:
    """How many records were rejected at ingest, and the newest `limit` of them with the reason."""
    with read_snapshot(snap) as con:
        total = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
        frame = con.execute(
            """
            SELECT r.ingest_run_id, r.origin, r.file, r.line_no, r.reason, left(r.raw, 300) AS raw
            FROM rejects r
            ORDER BY r.ingest_run_id DESC, r.file, r.line_no
            LIMIT ?
            """,
            [limit],
        ).df()
    return total, frame
