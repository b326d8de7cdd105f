"""Widgets every page shares: the data check, the filters (kept in the URL), tables, downloads.

Filters are bound to the URL's query (`bind="query-params"`): choosing a grain, services, an
environment or dates updates the address bar, and opening that address restores the same view, so
a view can be shared as a link. The bound keys are the query parameter names: `grain`, `env`,
`team`, `services`, `dates` (e.g. `?grain=week&team=checkout&dates=2026-01-01&dates=2026-06-30`).
"""
from __future__ import annotations

import io
from datetime import date
from typing import Callable, Mapping, Sequence

import duckdb
import pandas as pd
import streamlit as st

from core.text import escape_markdown
from dashboard import data
from dashboard.catalog import GRAIN_LABELS, format_duration_minutes
from metrics.build import DEFINITIONS_VERSION
from metrics.compare import Scope
from metrics.export import write_csv
from metrics.filters import NO_TEAM
from metrics.goals import Goals
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
    "newest_event_at": "Newest record (UTC)", "events": "Records stored", "runs": "Runs",
    "last_message": "Last message",
    "record_type": "Record type", "record_id": "Record", "at": "When (UTC)", "counted": "Counted",
    "run_id": "Pipeline run", "pipeline_name": "Pipeline", "outcome": "Outcome",
    "duration_minutes": "Duration (min)", "ci_minutes": "CI time (min)", "stopped_stage": "Stopped at stage",
    "stop_outcome": "What became of the stopped build",
    "rule": "Rule that linked it", "value_hours": "Value (hours)", "value_minutes": "Value (minutes)",
    "value_text": "Value", "lines_changed": "Lines changed", "deploys_that_week": "Deploys that week",
    "exposed_at": "Exposed (UTC)", "recovery_from": "Recovery counted from", "blast_radius_percent": "Blast radius (%)",
    "caught_in_rollout": "Caught in rollout", "caused_by_change": "Names change", "cause_rule": "Cause read by",
    "change_link_rule": "Changes linked by", "max_traffic_percent": "Rollout reached (% of traffic)",
}

# The columns that hold shares (rates), shown as percentages: the registry's rate metrics.
PERCENT_COLUMNS = frozenset(COLUMN_LABELS[m.column] for m in PERIOD_METRICS if m.unit == "share")

# Words for the codes the facts use, so tables explain themselves.
RULE_WORDS = {
    "caused_by_deployment": "named by the incident (caused_by_deployment)",
    "caused_by_deployment_unmatched": "names a deployment that does not exist: not attributed",
    "caused_by_commit": "first deployment of the commit it names (caused_by_commit)",
    "caused_by_commit_unmatched": "names a commit no deployment exposed before it shipped: not attributed",
    "caused_by_change": "first deployment that shipped the change it names (caused_by_change)",
    "caused_by_change_unmatched": "names a change no deployment exposed before it shipped: not attributed",
    "latest_deployment_in_rollout": "latest deployment of its service, still rolling out when it started",
    "exposure": "first exposure (recovered before the rollout finished)", "finish": "the deployment's finish",
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
           "last_outcome", "stop_outcome", "recovery_from", "change_link_rule"}


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
ALL_TEAMS = "all"  # the Team select's default: no team chosen, the organisation


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
    teams, _ = data.locate_scopes()
    st.session_state[CONTEXT_KEY] = (snap, status, render_filters(snap, status, teams))


def load_context() -> tuple[data.Snapshot, data.Status, data.View]:
    """The snapshot, what it holds and the view the filters ask for; or the page explains what to run."""
    context = st.session_state.get(CONTEXT_KEY)
    if context is None:
        explain_and_stop("No data to show yet", "Open the dashboard with `dora dashboard`.")
    if isinstance(context[0], str):
        explain_and_stop(*context)
    return context


def load_goals() -> Goals:
    """The goals of dora.toml as `dora dashboard` passed them (none when started without `--teams`)."""
    return data.locate_scopes()[1]


def team_label(team: str | None) -> str:
    """How a heading names the view's scope when no service is picked."""
    if team == NO_TEAM:
        return "Services in no team"
    return f"Team {team}" if team else "All services"


def scope_label(scope: Scope) -> str:
    """How a window comparison's caption names its scope (data.compare_scope): the one service, the
    team, or all services."""
    return scope.services[0] if scope.services and scope.team is None else team_label(scope.team)


def note_several_services(view: data.View, scope: Scope, told: str, alone: str) -> None:
    """Under a page comparing windows, when several services are picked: say what the page is `told`
    for instead (the team, else the whole organisation) and how to see one service `alone`."""
    if len(view.services) > 1:
        st.caption(f"Several services are selected: {told} "
                   f"{'the whole organisation' if scope.team is None else escape_markdown(scope_label(scope))}. "
                   f"Pick one service in the sidebar to {alone}.")


def require_team_services(snap: data.Snapshot, view: data.View) -> data.View:
    """The view with a team standing for its services (for pages without team figures); explains and
    stops when the team has no service with data."""
    wide = data.services_view(snap, view)
    if view.team and not wide.services:
        explain_and_stop(f"No data for {team_label(view.team).lower()}",
                         f"None of its services has data in {escape_markdown(view.environment)}.")
    return wide


def render_filters(snap: data.Snapshot, status: data.Status, teams: tuple = ()) -> data.View:
    """The sidebar's filters, each bound to the URL so the view can be shared as a link. The Team
    filter is shown only when teams are configured (dora.toml's [[teams]], passed as `--teams`)."""
    view = data.default_view(status, teams)
    check_bound_parameters(status)
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
        offered = status.services.get(view.environment, ())
        if teams:
            options = {ALL_TEAMS: "All teams", **{t.name: t.name for t in teams}, NO_TEAM: "No team"}
            team = choose_in_url(st.selectbox, "Team", options, key="team", default=ALL_TEAMS,
                                 help="A team's figures are computed from all its services' records together; "
                                      "\"No team\": the services no team in dora.toml owns.")
            if team != ALL_TEAMS:
                view = view._replace(team=team)
                owned = set(data.load_team_services(snap, view))
                outside = [s for s in st.query_params.get_all("services") if s in offered and s not in owned]
                if outside:
                    note_url(f"The link's services {', '.join(f'`{escape_markdown(s)}`' for s in outside)} are not "
                             f"in {escape_markdown(team_label(team).lower())}; they are left out.")
                offered = tuple(s for s in offered if s in owned)
                picked = st.session_state.get("services")
                if picked and any(s not in owned for s in picked):  # chosen before the team changed
                    st.session_state["services"] = [s for s in picked if s in owned]
        services = st.multiselect(
            "Services", offered, default=[], key="services",
            bind="query-params", placeholder="All services",
            help="Empty: the whole organisation. Several: each service on its own (medians do not add up).",
        )
        view = view._replace(services=tuple(services))
        grain = choose_in_url(st.segmented_control, "Period", {g: GRAIN_LABELS[g] for g in data.GRAINS},
                              key="grain", default="month", required=True)
        view = view._replace(grain=grain)
        st.caption(f"Data: {status.first_day:%Y-%m-%d} to {status.last_day:%Y-%m-%d}; "
                   f"time zone {status.settings.timezone}. Share this view by copying the address.")
        st.html(COLLAPSE_WHEN_NARROW, unsafe_allow_javascript=True)
    return view


# --- the URL ---------------------------------------------------------------------------------------
# Links use the CLI's ids (`?grain=week&metric=lead_time`) and accept the labels the page shows
# (`?grain=Week&metric=Change+lead+time`), in any case. A value the page does not understand is never
# dropped in silence: the page says so above its title (show_url_notes) and shows its default.

URL_NOTES_KEY = "_dora_url_notes"
URL_SEEN_KEY = "_dora_url_seen"
URL_IGNORED_KEY = "_dora_url_ignored"  # unknown parameter names already reported in this session
# Parameters Streamlit itself reads (embedding) and the keys the filters bind: never "not understood".
STREAMLIT_PARAMETERS = frozenset({"embed", "embed_options"})


def note_url(text: str) -> None:
    """Remember, for this run, that the link asked for something the page does not understand."""
    st.session_state.setdefault(URL_NOTES_KEY, []).append(text)


def resolve_choice(asked: str, options: Mapping[str, str], names: Mapping[str, str] | None = None) -> str | None:
    """The option id a URL value names: an id, a label or one of `names` (id → another spelling),
    ignoring case, spaces and punctuation."""
    def norm(text: str) -> str:
        return "".join(ch for ch in str(text).casefold() if ch.isalnum())

    wanted = norm(asked)
    for option_id, label in options.items():
        if wanted in (norm(option_id), norm(label), norm((names or {}).get(option_id, option_id))):
            return option_id
    return None


def choose_in_url(widget: Callable, label: str, options: Mapping[str, str], *, key: str, default: str,
                  names: Mapping[str, str] | None = None, **kwargs) -> str:
    """A one-of choice (st.segmented_control, st.selectbox, …) kept in the URL by its id, shown by its label.

    Streamlit's own binding (`bind="query-params"`) writes the shown label into the URL and drops a
    value it does not know; this writes the id — the CLI's spelling — accepts the label too, and says
    when a link names neither (the view then shows `default`). The value lives in session state
    under `key`, so it survives page switches; the URL is written again whenever it differs.
    """
    seen = st.session_state.setdefault(URL_SEEN_KEY, {})
    asked = st.query_params.get(key)
    confused = False
    if asked is not None and asked != seen.get(key):  # a link (or an edited address) names it
        seen[key] = asked
        found = resolve_choice(asked, options, names)
        if found is None:
            confused = True
            known = ", ".join(f"`{i}`" for i in options)
            note_url(f"The link's `{key}={escape_markdown(asked)}` is not understood (expected one of {known} "
                     f"or their names); showing {options[default]}.")
        else:
            st.session_state[key] = found
    if st.session_state.get(key) not in options:
        st.session_state[key] = default
    value = widget(label, list(options), key=key, format_func=options.get, **kwargs) or default
    wanted = None if value == default else value  # the default stays out of the address, as Streamlit does
    if not confused and st.query_params.get(key) != wanted:
        if wanted is None:
            del st.query_params[key]
        else:
            st.query_params[key] = wanted
        seen[key] = wanted
    return value


def check_bound_parameters(status: data.Status) -> None:
    """Say when a link's environment, services or dates are not in the data (Streamlit's binding
    would drop them without a word). Called before the filters bind them."""
    environments = status.environments
    asked_env = st.query_params.get("env")
    if asked_env is not None and asked_env not in environments:
        note_url(f"The link's `env={escape_markdown(asked_env)}` is not an environment with data "
                 f"({', '.join(environments)}); showing {environments[0]}.")
    environment = asked_env if asked_env in environments else environments[0]
    known = status.services.get(environment, ())
    unknown = [s for s in st.query_params.get_all("services") if s not in known]
    if unknown:
        note_url(f"The link's services {', '.join(f'`{escape_markdown(s)}`' for s in unknown)} have no data in "
                 f"{escape_markdown(environment)}; they are left out.")
    for text in st.query_params.get_all("dates"):
        try:
            date.fromisoformat(text)
        except ValueError:
            note_url(f"The link's `dates={escape_markdown(text)}` is not a date (YYYY-MM-DD); "
                     "showing all the data's days.")


def show_url_notes(where) -> None:
    """Show, in `where` (a container above the page), what the link asked for that the page does
    not understand: values noted while the widgets were drawn, and parameters no widget reads."""
    notes = st.session_state.pop(URL_NOTES_KEY, [])
    widgets = {k for k in st.session_state.keys() if isinstance(k, str) and not k.startswith("_")}
    reported = st.session_state.setdefault(URL_IGNORED_KEY, set())
    for name in st.query_params.keys():
        if name not in widgets and name not in STREAMLIT_PARAMETERS and name not in reported:
            notes.append(f"The link's parameter `{escape_markdown(name)}` is not one this page reads; it is ignored.")
            reported.add(name)
    for text in notes:
        where.warning(text, icon=":material/link_off:")


# At 800 px and below, the sidebar would take a third of the screen: fold it away once, on the first
# page a browser opens, unless the reader has opened or closed it before (Streamlit remembers that in
# localStorage as stSidebarCollapsed-*; its own "auto" folds it only below 768 px).
COLLAPSE_WHEN_NARROW = """<script>
(() => {
  if (window.innerWidth > 1000 || sessionStorage.getItem("dora-sidebar-folded")) return;
  sessionStorage.setItem("dora-sidebar-folded", "1");
  for (let i = 0; i < localStorage.length; i++) {
    if (localStorage.key(i).startsWith("stSidebarCollapsed-")) return;
  }
  const fold = () => {
    const button = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
    if (button) { button.click(); } else { setTimeout(fold, 100); }
  };
  fold();
})();
</script>"""


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
    # A team's figure is the 'all' row of the team's services: its records are theirs (the page's view).
    context = st.session_state.get(CONTEXT_KEY)
    team = context[2].team if context and not isinstance(context[0], str) and service == "all" else None
    only = data.scope_services(snap, context[2]) if team else None
    frame, about = data.load_records(snap, figure, grain, start, service, environment, only)
    counted = int(frame["counted"].sum())
    # text from the data, never Markdown
    scope = team_label(team).lower() if service == "all" else escape_markdown(service)
    st.markdown(f"**{title}, {period_label(grain, start)}, {escape_markdown(scope)}: {len(frame):,} records, "
                f"{counted:,} counted**")
    if about.get("figure") is not None:
        st.caption(f"The figure is {about['how']}; recomputed from these rows it is {_number(about['recomputed'])}, "
                   f"as stored ({_number(about['figure'])}).")
    elif only is not None:
        st.caption(f"The team's figure is {about['how']}: {_number(about['recomputed'])}.")
    columns = ["record_id", "service", "at", "counted"]
    exported = frame.copy()
    if about.get("unit") in ("hours", "minutes"):  # the table in human units, the CSV in the stated one
        value_name = f"value_{about['unit']}"
        exported[value_name] = exported["value"]
        columns.append(value_name)
    columns += [c for c in ("failed", "unplanned", "changes", "change_link_rule", "commit", "exposed_at")
                if c in exported.columns] + ["rule", "detail"]
    shown = exported
    shown_columns = columns
    if about.get("unit") in ("hours", "minutes"):
        minutes = exported["value"] * (60 if about["unit"] == "hours" else 1)
        shown = exported.assign(value_text=minutes.map(format_duration_minutes))
        shown_columns = [("value_text" if c == value_name else c) for c in columns]
    show_table(shown, shown_columns, key=key, file_name=f"{figure}-{start}-{service}",
               everything=lambda: exported[columns])


def _number(value) -> str:
    return "–" if value is None or value != value else f"{value:,.4g}"


def scope_tabs(labels: Sequence[str], *, key: str) -> list:
    """One tab per scope (service), of which only the selected one is drawn: the containers, None for
    the tabs not selected; one plain container when there is one scope.

    Streamlit draws every tab's content by default: a team's 20 services made the Lead time and Batch
    size pages draw 20 tabs of charts (12.8 s for Batch size). With `on_change="rerun"` a tab knows
    whether it is open, and choosing another reruns the page to draw that one.
    """
    if len(labels) <= 1:
        return [st.container()]
    tabs = st.tabs(list(labels), key=key, on_change="rerun")
    return [tab if tab.open is not False else None for tab in tabs]


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
