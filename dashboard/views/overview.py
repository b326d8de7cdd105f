"""Overview: the five DORA metrics (and incident recovery) as cards, deployments per period, freshness."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import charts, data, ui
from dashboard.catalog import LEVEL_BADGES, LEVEL_METRICS, METRICS, format_change, format_value, judge_change

st.title("Are we getting faster and safer?")
snap, status, view = ui.load_context()
summary = data.load_summary(snap, view)
scopes = list(view.services) or ["all"]
levels = data.load_levels(snap, view)
annotations = data.load_annotations(snap, view)


def latest_rows(frame: pd.DataFrame) -> tuple[pd.Series | None, pd.Series | None]:
    """The latest period with any data in the view, and the one before it."""
    frame = frame.sort_values("period_start")
    active = frame[(frame["deployments"] > 0) | (frame["changes_deployed"] > 0) | (frame["incidents"] > 0)]
    if active.empty:
        return None, None
    position = frame.index.get_loc(active.index[-1])
    current = frame.iloc[position]
    previous = frame.iloc[position - 1] if position > 0 else None
    return current, previous


def period_end(grain: str, start) -> pd.Timestamp:
    start = pd.Timestamp(start)
    step = {"day": pd.DateOffset(days=1), "week": pd.DateOffset(days=7), "month": pd.DateOffset(months=1),
            "quarter": pd.DateOffset(months=3)}[grain]
    return start + step - timedelta(days=1)


def level_of(scope: str, period_start, metric_key: str) -> str | None:
    """The DORA level of one card's value (metrics.levels), when the build has levels."""
    if levels.empty:
        return None
    row = levels[(levels["service"] == scope) & (levels["metric"] == LEVEL_METRICS[metric_key])
                 & (pd.to_datetime(levels["period_start"]) == pd.Timestamp(period_start))]
    value = row["level"].iloc[0] if len(row) else None
    return value if isinstance(value, str) else None


def render_cards(frame: pd.DataFrame, heading: str, scope: str) -> None:
    current, previous = latest_rows(frame)
    if current is None:
        st.info(f"{heading}: no deployments, changes or incidents in the selected dates.")
        return
    label = charts.period_label(view.grain, current["period_start"])
    partial = period_end(view.grain, current["period_start"]).date() > status.last_day
    caption = f"**{heading}** · {label}{' (so far)' if partial else ''}"
    if previous is not None:
        caption += f", compared with {charts.period_label(view.grain, previous['period_start'])}"
    st.markdown(caption)
    columns = st.columns(3)
    previous_label = charts.period_label(view.grain, previous["period_start"]) if previous is not None else None
    for i, spec in enumerate(METRICS):
        value = current[spec.column]
        before = previous[spec.column] if previous is not None else None
        count = current.get(spec.count_column)
        verdict = judge_change(spec, value, before)
        level = level_of(scope, current["period_start"], spec.key)
        with columns[i % 3].container(border=True):
            st.metric(
                f"{spec.name} :{LEVEL_BADGES.get(level, 'gray')}-badge[{level.capitalize()}]" if level else spec.name,
                format_value(spec, value),
                delta=format_change(spec, value, before),
                delta_color=spec.card_colour,
                delta_arrow="off" if verdict == "unchanged" else "auto",
                delta_description=f"vs {previous_label}: {verdict}" if verdict else None,
                help=f"{spec.label}. {spec.help} Based on {int(count or 0):,} {spec.count_label}.",
            )
            trend = charts.sparkline_values(frame, spec)
            st.markdown(charts.sparkline_svg(trend, spec.colour, label=f"{spec.name}: the last {len(trend)} "
                                             f"{view.grain}s with a value"), unsafe_allow_html=True)


for scope in scopes:
    render_cards(summary[summary["service"] == scope], "All services" if scope == "all" else scope, scope)

st.subheader(f"Deployments per {view.grain}")
st.caption("Click a bar to list the deployments behind it.")
tabs = st.tabs(["All services" if s == "all" else s for s in scopes]) if len(scopes) > 1 else [st.container()]
for scope, tab in zip(scopes, tabs):
    with tab:
        part = summary[summary["service"] == scope]
        event = st.plotly_chart(
            charts.deployments_figure(part, view.grain, annotations=annotations), on_select="rerun", selection_mode="points",
            key=f"deployments-{scope}", config=ui.PLOTLY_CONFIG,
        )
        ui.download_csv(part[["period_start", "service", "deployments", "failed_deployments",
                              "change_failure_rate", "environment", "grain", "time_zone"]],
                        f"deployments-per-{view.grain}", key=f"deployments-{scope}-csv", label="Download chart data")
        for point in ui.selected_points(event)[:1]:
            period_start, service = point["customdata"][0], point["customdata"][1]
            ui.show_records(snap, "deployments", view.grain, period_start, service, view.environment,
                            title="Deployments", key=f"deployments-{scope}-records")

st.subheader("Data freshness")
freshness = data.load_freshness(snap)
if freshness.empty:
    st.caption("No ingest runs recorded.")
else:
    for row in freshness.itertuples():
        if row.last_outcome == "failed":
            st.warning(f"The last **{row.origin}** load failed ({row.last_message or 'no message'}); "
                       f"the figures are as of its last successful load.", icon=":material/warning:")
    ui.show_table(freshness, ["origin", "last_success_at", "last_outcome", "newest_event_at", "events", "runs"],
                  key="freshness", height="content")
if not levels.empty:
    report = levels["report"].iloc[0]
    st.caption(f"Levels: each metric on its own against the DORA {report} report's table "
               "(docs/metrics.md, \"DORA levels\").")
st.caption(f"Metrics built {status.built_at:%Y-%m-%d %H:%M} UTC. Definitions: docs/metrics.md."
           if status.built_at is not None else "Definitions: docs/metrics.md.")
data.prefetch_grains(snap, view)  # after drawing: the other periods are ready before the next click
