"""Overview: the five DORA metrics (and incident recovery) as cards, deployments per period, freshness."""
from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.review import render_review_button
from dashboard.catalog import CARD_COLOURS, COLOURS, LEVEL_BADGES, format_change, format_value, judge_change
from metrics.explain import period_start_of
from metrics.registry import PERIOD_METRICS

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


def is_partial(grain: str, start) -> bool:
    """True when the period starting on `start` goes on past the data's last day (it is not over)."""
    return period_start_of(status.last_day + timedelta(days=1), grain) == charts.to_date(start)


def level_of(scope: str, period_start, metric_id: str) -> str | None:
    """The DORA level of one card's value (metrics.levels), when the build has levels."""
    if levels.empty:
        return None
    row = levels[(levels["service"] == scope) & (levels["metric"] == metric_id)
                 & (pd.to_datetime(levels["period_start"]) == pd.Timestamp(period_start))]
    value = row["level"].iloc[0] if len(row) else None
    return value if isinstance(value, str) else None


def render_cards(frame: pd.DataFrame, heading: str, scope: str) -> None:
    current, previous = latest_rows(frame)
    if current is None:
        st.info(f"{heading}: no deployments, changes or incidents in the selected dates.")
        return
    label = charts.period_label(view.grain, current["period_start"])
    caption = f"**{heading}** · {label}{' (so far)' if is_partial(view.grain, current['period_start']) else ''}"
    if previous is not None:
        caption += f", compared with {charts.period_label(view.grain, previous['period_start'])}"
    st.markdown(caption)
    columns = st.columns(3)
    previous_label = charts.period_label(view.grain, previous["period_start"]) if previous is not None else None
    for i, metric in enumerate(PERIOD_METRICS):
        value = current[metric.column]
        before = previous[metric.column] if previous is not None else None
        count = current.get(metric.count_column)
        verdict = judge_change(metric, value, before)
        level = level_of(scope, current["period_start"], metric.id)
        with columns[i % 3].container(border=True):
            st.metric(
                f"{metric.name} :{LEVEL_BADGES.get(level, 'gray')}-badge[{level.capitalize()}]" if level
                else metric.name,
                format_value(metric, value),
                delta=format_change(metric, value, before),
                delta_color=CARD_COLOURS[metric.id],
                delta_arrow="off" if verdict == "unchanged" else "auto",
                delta_description=f"vs {previous_label}: {verdict}" if verdict else None,
                help=f"{metric.label}. {metric.definition} Based on {int(count or 0):,} {metric.count_label}.",
            )
            trend = charts.sparkline_values(frame, metric)
            st.markdown(charts.sparkline_svg(trend, COLOURS[metric.id], label=f"{metric.name}: the last {len(trend)} "
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
            st.warning(f"The last **{escape_markdown(row.origin)}** load failed "
                       f"({escape_markdown(row.last_message or 'no message')}); "
                       f"the figures are as of its last successful load.", icon=":material/warning:")
    ui.show_table(freshness, ["origin", "last_success_at", "last_outcome", "newest_event_at", "events", "runs"],
                  key="freshness", height="content")
if not levels.empty:
    report = levels["report"].iloc[0]
    st.caption(f"Levels: each metric on its own against the DORA {report} report's table "
               "(docs/metrics.md, \"DORA levels\").")
st.caption(f"Metrics built {status.built_at:%Y-%m-%d %H:%M} UTC. Definitions: docs/metrics.md."
           if status.built_at is not None else "Definitions: docs/metrics.md.")
render_review_button(snap, status, view)
data.prefetch_grains(snap, view)  # after drawing: the other periods are ready before the next click
