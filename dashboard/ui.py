"""Widgets every page shares: the data check, the filters (kept in the URL), tables, downloads.

Filters are bound to the URL's query (`bind="query-params"`): choosing a grain, services, an
environment or dates updates the address bar, and opening that address restores the same view, so
a view can be shared as a link. The bound keys are the query parameter names: `grain`, `env`,
`services`, `dates` (e.g. `?grain=week&services=payments&dates=2026-01-01&dates=2026-06-30`).
"""
from __future__ import annotations

import io
from typing import Callable, Sequence

import duckdb
import pandas as pd
import streamlit as st

from core.text import escape_markdown
from dashboard import data
from dashboard.catalog import GRAIN_LABELS
from metrics.build import DEFINITIONS_VERSION
from metrics.export import write_csv
from metrics.registry import PERIOD_METRICS

# Every column a table shows, as people say it (units in brackets): tables never show raw names.
COLUMN_LABELS = {
    "deployment_id": "Deployment", "service": "Service", "finished_at": "Finished (UTC)",
    "started_at": "Started (UTC)", "commit": "Commit", "changes": "Changes", "unplanned": "Unplanned",
    "failed": "Failed", "failure_reason": "Why it failed", "reason": "Why it failed",
    "incident_ids": "Incidents", "recovery_minutes": "Recovery (min)", "recovery_rule": "Recovered by",
    "recovered_at": "Recovered (UTC)", "rolled_back_at": "Rolled back (UTC)",
    "change_id": "Change", "title": "Title", "author": "Author", "lead_time_hours": "Lead time (h)",
    "lead_start_field": "Lead time starts at", "lead_started_at": "Lead time start (UTC)",
    "merged_at": "Merged (UTC)", "delivered_at": "In production (UTC)", "link_rule": "Linked by",
    "incident_id": "Incident", "severity": "Severity", "resolved_at": "Resolved (UTC)",
    "attributed_to": "Attributed to deployment", "attribution_rule": "Why this deployment",
    "attributed_deployment_finished_at": "That deployment finished (UTC)",
    "caused_by_deployment": "Names deployment", "caused_by_commit": "Names commit",
    "finding": "Finding", "entity_type": "Record type", "entity_id": "Record", "environment": "Environment",
    "occurred_at": "When (UTC)", "detail": "Detail", "ingest_run_id": "Ingest run", "origin": "Source",
    "file": "File", "line_no": "Line", "raw": "Raw text",
    "period_start": "Period start", "deployments": "Deployments", "deploys_per_day": "Deploys per day",
    "lead_time_median_hours": "Lead time, median (h)", "change_failure_rate": "Change fail rate",
    "failed_deployments": "Failed deployments", "incident_recovery_median_minutes": "Incident recovery, median (min)",
    "failed_deployment_recovery_median_minutes": "Failed deployment recovery, median (min)",
    "rework_rate": "Rework rate", "changes_deployed": "Changes deployed", "incidents": "Incidents",
    "last_success_at": "Last successful load (UTC)", "last_outcome": "Last run", "last_run_at": "Last run (UTC)",
    "newest_event_at": "Newest event (UTC)", "events": "Events stored", "runs": "Runs",
    "last_message": "Last message",
    "record_type": "Record type", "record_id": "Record", "at": "When (UTC)", "counted": "Counted",
    "run_id": "Pipeline run", "pipeline_name": "Pipeline", "outcome": "Outcome",
    "duration_minutes": "Duration (min)", "ci_minutes": "CI time (min)", "stopped_stage": "Stopped at stage",
    "stop_outcome": "What became of the stopped build",
    "rule": "Rule that linked it", "value_hours": "Value (hours)", "value_minutes": "Value (minutes)", "lines_changed": "Lines changed", "deploys_that_week": "Deploys that week",
}

# The columns that hold shares (rates), shown as percentages: the registry's rate metrics.
PERCENT_COLUMNS = frozenset(COLUMN_LABELS[m.column] for m in PERIOD_METRICS if m.unit == "share")

# Words for the codes the facts use, so tables explain themselves.
RULE_WORDS = {
    "caused_by_deployment": "named by the incident (caused_by_deployment)",
    "caused_by_deployment_unmatched": "names a deployment that does not exist: not attributed",
    "caused_by_commit": "first deployment of the commit it names (caused_by_commit)",
    "caused_by_commit_unmatched": "names a commit no earlier deployment shipped: not attributed",
    "never_started": "no start event: not attributed",
    "no_service": "names no service: not attributed",
    "no_deployment_before": "no deployment of its service before it: not attributed",
    "latest_deployment_in_window": "latest deployment of its service within the attribution window",
    "outside_window": "latest deployment was outside the attribution window: not attributed",
    "rollback": "rollback", "last_incident_resolved": "last incident resolved",
    "incident": "caused an incident", "rollback+incident": "rolled back and caused an incident",
    "explicit": "listed by the deployment", "commit_graph": "commit graph", "merge_window": "merged since the previous deployment",
    "first_commit_at": "first commit", "opened_at": "pull request opened", "merged_at": "merge",
    "ok": "ok", "rejects": "ok, with rejected records", "failed": "failed",
    "never_deployed": "never deployed (a failure prevented)", "deployed_later_ok": "deployed later, did not fail",
    "deployed_later_failed": "deployed later, and failed", "commit_unknown": "unknown (the run names no commit)",
}
_WORDED = {"attribution_rule", "recovery_rule", "failure_reason", "reason", "link_rule", "lead_start_field",
           "last_outcome", "stop_outcome"}


class NoData(Exception):
    """The page cannot show anything yet; the message says what to run."""


def explain_and_stop(title: str, body: str) -> None:
    """A friendly explanation instead of a page (never a traceback), then stop the script."""
    st.info(f"**{title}**\n\n{body}", icon=":material/info:")
    st.stop()


def require_login() -> None:
    """Only signed-in people see the dashboard when Streamlit's OIDC login is configured.

    Configured means an `[auth]` section in .streamlit/secrets.toml (docs/dashboard.md); then the
    optional `[dashboard] allowed_domains` / `allowed_emails` limit who may look. Without `[auth]`
    nothing changes: the dashboard is for this machine (it binds to 127.0.0.1) or sits behind a
    reverse proxy that authenticates.
    """
    try:
        configured = "auth" in st.secrets
        rules = st.secrets.get("dashboard", {}) if configured else {}
    except FileNotFoundError:  # no secrets.toml at all
        return
    if not configured:
        return
    if not st.user.is_logged_in:
        st.title("DORA metrics")
        st.write("Sign in to see your organisation's delivery metrics.")
        st.button("Sign in", on_click=st.login, type="primary", icon=":material/login:")
        st.stop()
    domains = [d.lower() for d in rules.get("allowed_domains", [])]
    emails = [e.lower() for e in rules.get("allowed_emails", [])]
    email = str(st.user.get("email") or "").lower()
    if (domains or emails) and email not in emails and email.rpartition("@")[2] not in domains:
        st.title("DORA metrics")
        st.error(f"{email or 'This account'} may not see this dashboard. Ask its owner to add you.",
                 icon=":material/block:")
        st.button("Sign out", on_click=st.logout)
        st.stop()


CONTEXT_KEY = "_dora_context"
FULL_RANGE_KEY = "_dora_full_range"


def prepare_context() -> None:
    """Load the snapshot's status and render the sidebar's filters, once per run, for every page.

    Called by app.py before the page runs: the filters belong to the app, not to a page, so their
    URL parameters survive page switches (Streamlit drops a page's bound parameters when another
    page is shown). When there is nothing to show yet, the reason is stored instead, and the page
    explains it (`load_context`).
    """
    st.session_state[CONTEXT_KEY] = None
    db_path = data.locate_warehouse()
    snap = data.find_snapshot(db_path)
    if snap is None:
        st.session_state[CONTEXT_KEY] = (
            "No data to show yet",
            f"There is no warehouse snapshot beside `{db_path}`. Load your deployment events, for example:\n\n"
            f"```\ndora ingest events deploys.jsonl --db {db_path}\n```\n\n"
            "or try the bundled sample with `make demo`. Every load publishes a fresh snapshot, and this "
            "page picks it up on its next refresh — no restart needed.",
        )
        return
    try:
        status = data.load_status(snap)
    except duckdb.Error as exc:
        st.session_state[CONTEXT_KEY] = (
            "The warehouse snapshot cannot be read",
            f"`{snap.path}` could not be read ({type(exc).__name__}). Run any load again "
            f"(`dora ingest events FILE --db {db_path}`) to publish a new one.",
        )
        return
    if not status.has_metrics:
        st.session_state[CONTEXT_KEY] = (
            "No metrics yet",
            "The warehouse has no production deployments, changes or incidents to measure yet. Load your "
            f"event log with `dora ingest events FILE --db {db_path}`; the metrics are built as part of "
            "every load.",
        )
        return
    st.session_state[CONTEXT_KEY] = (snap, status, render_filters(status))


def load_context() -> tuple[data.Snapshot, data.Status, data.View]:
    """The snapshot, what it holds and the view the filters ask for; or the page explains what to run."""
    context = st.session_state.get(CONTEXT_KEY)
    if context is None:
        explain_and_stop("No data to show yet", "Open the dashboard with `dora dashboard`.")
    if isinstance(context[0], str):
        explain_and_stop(*context)
    return context


def render_filters(status: data.Status) -> data.View:
    """The sidebar's filters, each bound to the URL so the view can be shared as a link."""
    view = data.View(environment=status.environments[0])
    with st.sidebar:
        st.markdown("#### Filters")
        full = (status.first_day, status.last_day)
        # A view on all the data stays on all of it when a load adds days; a chosen range stays put.
        if st.session_state.get(FULL_RANGE_KEY) not in (None, full) \
                and tuple(st.session_state.get("dates") or ()) == st.session_state[FULL_RANGE_KEY]:
            st.session_state["dates"] = full
        st.session_state[FULL_RANGE_KEY] = full
        picked = st.date_input(
            "Dates", value=full, min_value=status.first_day, max_value=status.last_day, key="dates",
            bind="query-params", format="YYYY-MM-DD",
            help="Periods that start or end inside the range are shown whole.",
        )
        picked = tuple(picked) if isinstance(picked, (tuple, list)) else (picked,)
        if picked != full:  # the whole range filters nothing (findings may fall outside metric days)
            view = view._replace(from_date=picked[0] if picked else None,
                                 to_date=picked[1] if len(picked) > 1 else None)
        environment = st.selectbox(
            "Environment", status.environments, index=0, key="env", bind="query-params",
            help="Every configured production name (production, prod, …) counts as production.",
        )
        view = view._replace(environment=environment or status.environments[0])
        services = st.multiselect(
            "Services", status.services.get(view.environment, ()), default=[], key="services",
            bind="query-params", placeholder="All services",
            help="Empty: the whole organisation. Several: each service on its own (medians do not add up).",
        )
        view = view._replace(services=tuple(services))
        grain = st.segmented_control(
            "Period", list(data.GRAINS), default="month", key="grain", bind="query-params",
            format_func=GRAIN_LABELS.get, required=True,
        )
        view = view._replace(grain=grain or "month")
        st.caption(f"Data: {status.first_day:%Y-%m-%d} to {status.last_day:%Y-%m-%d}; "
                   f"time zone {status.settings.timezone}. Share this view by copying the address.")
    return view


def label_frame(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """The frame as people read it: chosen columns, codes in words, headers with units."""
    frame = frame[list(columns)] if columns is not None else frame
    frame = frame.copy()
    for column in _WORDED.intersection(frame.columns):
        frame[column] = frame[column].map(lambda v: RULE_WORDS.get(v, v) if isinstance(v, str) else v)
    for column in frame.columns:
        if frame[column].dtype == object and frame[column].map(lambda v: isinstance(v, (list, tuple))).any():
            frame[column] = frame[column].map(_join_list)
    if "commit" in frame.columns:  # a short SHA, as git shows it; the CSV keeps the whole one
        frame["commit"] = frame["commit"].map(lambda v: v[:10] if isinstance(v, str) else v)
    return frame.rename(columns={c: COLUMN_LABELS.get(c, c) for c in frame.columns})


def show_table(frame: pd.DataFrame, columns: Sequence[str] | None = None, *, key: str, height: int | str = "auto",
               file_name: str | None = None, everything: Callable[[], pd.DataFrame] | None = None) -> None:
    """A table with readable headers and formats, and its data as CSV one click away.

    `everything`: when the table shows only part of the rows, how to read all of them for the CSV
    (called only when the button is clicked)."""
    shown = label_frame(frame, columns)
    config = {}
    for name in shown.columns:
        series = shown[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            config[name] = st.column_config.DatetimeColumn(name, format="YYYY-MM-DD HH:mm")
        elif pd.api.types.is_float_dtype(series):
            if name in PERCENT_COLUMNS:
                config[name] = st.column_config.NumberColumn(name, format="percent")
            else:
                config[name] = st.column_config.NumberColumn(name, format="%.1f")
    st.dataframe(shown, hide_index=True, column_config=config, key=key, height=height, placeholder="–")
    download_csv(everything or (frame if columns is None else frame[list(columns)]), file_name or key,
                 key=f"{key}-csv")


def _join_list(value) -> str:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist"):
        return "; ".join(str(v) for v in list(value))
    return "" if value is None else str(value)


def to_csv(frame: pd.DataFrame) -> str:
    """CSV with the export's conventions (metrics.export.write_csv): ISO dates and UTC timestamps,
    dot decimals, an empty cell where a value is undefined, and the definitions_version column."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            out[column] = series.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        elif series.dtype == object and series.map(lambda v: isinstance(v, (list, tuple)) or hasattr(v, "tolist")).any():
            out[column] = series.map(_join_list)
    if "definitions_version" not in out.columns:
        out["definitions_version"] = DEFINITIONS_VERSION
    buffer = io.StringIO()
    write_csv(out, buffer)
    return buffer.getvalue()


def download_csv(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, *, key: str,
                 label: str = "Download CSV") -> None:
    """One click to the CSV of a table's or chart's data, built only when clicked (`frame` may be a
    function that reads it then, for lists too long to hold in the page)."""
    def build() -> str:
        return to_csv(frame() if callable(frame) else frame)

    st.download_button(label, data=build, file_name=f"{name}.csv", mime="text/csv", key=key,
                       on_click="ignore", icon=":material/download:", type="tertiary")


def show_records(snap: data.Snapshot, figure: str, grain: str, period_start, service: str, environment: str,
                 *, title: str, key: str) -> None:
    """The records behind one figure (metrics.explain): which are counted, their values and the rule
    that linked each, with the stored figure recomputed from them."""
    from dashboard.charts import period_label, to_date

    start = to_date(period_start)
    frame, about = data.load_records(snap, figure, grain, start, service, environment)
    counted = int(frame["counted"].sum())
    scope = "all services" if service == "all" else escape_markdown(service)  # text from the data, never Markdown
    st.markdown(f"**{title}, {period_label(grain, start)}, {scope}: {len(frame):,} records, {counted:,} counted**")
    if about.get("figure") is not None:
        st.caption(f"The figure is {about['how']}; recomputed from these rows it is {_number(about['recomputed'])}, "
                   f"as stored ({_number(about['figure'])}).")
    columns = ["record_id", "service", "at", "counted"]
    shown = frame.copy()
    if about.get("unit") in ("hours", "minutes"):
        value_name = f"value_{about['unit']}"
        shown[value_name] = shown["value"]
        columns.append(value_name)
    columns += [c for c in ("failed", "unplanned") if c in shown.columns] + ["rule", "detail"]
    show_table(shown, columns, key=key, file_name=f"{figure}-{start}-{service}")


def _number(value) -> str:
    return "–" if value is None or value != value else f"{value:,.4g}"


def selected_points(event) -> list[dict]:
    """The points a plotly selection event carries (empty when nothing is selected)."""
    if not event:
        return []
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    if not selection:
        return []
    points = selection.get("points") if isinstance(selection, dict) else getattr(selection, "points", None)
    return list(points or [])


PLOTLY_CONFIG = {"displaylogo": False, "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
