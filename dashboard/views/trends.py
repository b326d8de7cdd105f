"""Trends: each metric by period, for the organisation (or one service) and per service (small multiples)."""
from __future__ import annotations

import streamlit as st

from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.catalog import COLOURS
from metrics.filters import NO_TEAM
from metrics.registry import METRICS_BY_ID, PERIOD_METRICS

MAX_SERVICES = 12  # small multiples beyond this stop being readable at 1280×800

st.title("Trends")
snap, status, view = ui.load_context()
annotations = data.load_annotations(snap, view)

goals = ui.load_goals()
# The URL holds the metric's id, as the CLI spells it (?metric=lead_time); its name works too.
metric_id = ui.choose_in_url(st.segmented_control, "Metric", {m.id: m.name for m in PERIOD_METRICS}, key="metric",
                             default=PERIOD_METRICS[0].id, required=True)
log_y = st.toggle("Logarithmic scale", key="log", help="Useful when a metric moved by orders of magnitude.")
metric = METRICS_BY_ID[metric_id]
goal = goals.goal_for(None if view.team == NO_TEAM else view.team, metric.id)
st.caption(f"{metric.definition} Click a point to list the records behind it."
           + (f" Dotted line: the goal, {metric.name.lower()} {goal.text} (dora.toml)." if goal else ""))


def with_goal(fig):
    """The chart with the goal in force for the view's team (or the organisation) as a target line."""
    return charts.goal_line(fig, metric, goal.target, goal.text) if goal else fig

selections: list[dict] = []
if len(view.services) <= 1:
    scope = view.services[0] if view.services else "all"
    frame = data.load_summary(snap, view)
    st.subheader(f"{metric.label}: {ui.team_label(view.team).lower() if scope == 'all' else escape_markdown(scope)}")
    event = st.plotly_chart(
        with_goal(charts.trend_figure(frame, metric, view.grain, annotations=annotations, log_y=log_y)),
        on_select="rerun", selection_mode="points", key=f"trend-{metric.id}", config=ui.PLOTLY_CONFIG,
    )
    selections += ui.selected_points(event)
    ui.download_csv(frame[["period_start", "service", metric.column, metric.count_column, "environment", "grain",
                           "time_zone"]], f"{metric.id}-{view.grain}", key=f"trend-{metric.id}-csv",
                    label="Download chart data")

per_service = data.load_summary(snap, view, by_service=True)
services = list(view.services) or (
    per_service.groupby("service")["deployments"].sum().sort_values(ascending=False).index.tolist()
)
if len(services) > 1 or not view.services:
    shown = services[:MAX_SERVICES]
    st.subheader(f"{metric.name} per service")
    if len(services) > MAX_SERVICES:
        st.caption(f"The {MAX_SERVICES} services with the most deployments of {len(services)}; "
                   "pick services in the sidebar to see others.")
    event = st.plotly_chart(
        with_goal(charts.small_multiples_figure(per_service, metric, view.grain, shown, log_y=log_y,
                                                annotations=annotations)),
        on_select="rerun", selection_mode="points", key=f"multiples-{metric.id}", config=ui.PLOTLY_CONFIG,
    )
    selections += ui.selected_points(event)
    ui.download_csv(per_service[per_service["service"].isin(shown)][
        ["period_start", "service", metric.column, metric.count_column, "environment", "grain", "time_zone"]],
        f"{metric.id}-{view.grain}-by-service", key=f"multiples-{metric.id}-csv", label="Download chart data")

for n, point in enumerate(selections[:2]):
    period_start, service = point["customdata"][0], point["customdata"][1]
    ui.show_records(snap, metric.column, view.grain, period_start, service, view.environment,
                    title=metric.label, key=f"records-{n}")

satisfaction = data.load_survey(snap, view)
if not satisfaction.empty:
    st.subheader("Developer satisfaction (survey)")
    st.caption("Mean score of the survey answers in each period, for everyone who answered (`dora ingest "
               "survey`); the hover shows how many answered.")
    survey = satisfaction[satisfaction["team"] == (view.team or "all")].rename(columns={"team": "service"})
    survey["scale"] = [f"{lo:g}–{hi:g}" for lo, hi in zip(survey["scale_min"], survey["scale_max"])]
    scales = list(dict.fromkeys(survey["scale"]))
    shades = charts.shades(COLOURS["developer_satisfaction"], len(scales))[::-1]
    # one scale needs no legend: the axis names it
    unit = f"satisfaction (mean, scale {scales[0]})" if len(scales) == 1 else "satisfaction (mean score)"
    st.plotly_chart(
        charts.series_figure(survey, series="scale", series_labels={s: f"scale {s}" for s in scales},
                             value="satisfaction_mean", count="responses", count_label="answers", grain=view.grain,
                             unit=unit, annotations=annotations,
                             colours=dict(zip(scales, shades)),
                             value_format=lambda v: f"{v:.2f}"),
        key="satisfaction", config=ui.PLOTLY_CONFIG)
    ui.download_csv(satisfaction, f"satisfaction-{view.grain}", key="satisfaction-csv", label="Download chart data")

with st.expander("The numbers, as `dora export` writes them"):
    table = data.load_summary(snap, view)
    ui.show_table(table, ["period_start", "service", "deployments", "deploys_per_day", "lead_time_median_hours",
                          "change_failure_rate", "failed_deployments", "failed_deployment_recovery_median_minutes",
                          "incident_recovery_median_minutes", "rework_rate"],
                  key="trend-table", file_name=f"summary-{view.grain}")
data.prefetch_grains(snap, view)  # after drawing: the other periods are ready before the next click
data.prefetch_grains(snap, view, by_service=True)
data.prefetch_picks(snap, view)  # and what a pick needs: every team's figures, every service's span
