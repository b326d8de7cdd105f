"""Trends: each metric by period, for the organisation (or one service) and per service (small multiples)."""
from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.catalog import METRICS, METRICS_BY_KEY, OKABE_ITO

MAX_SERVICES = 12  # small multiples beyond this stop being readable at 1280×800

st.title("Trends")
snap, status, view = ui.load_context()
annotations = data.load_annotations(snap, view)

key = st.segmented_control(
    "Metric", [m.key for m in METRICS], default=METRICS[0].key, key="metric", bind="query-params",
    format_func=lambda k: METRICS_BY_KEY[k].name, required=True,
) or METRICS[0].key
log_y = st.toggle("Logarithmic scale", key="log", help="Useful when a metric moved by orders of magnitude.")
spec = METRICS_BY_KEY[key]
st.caption(f"{spec.help} Click a point to list the records behind it.")

selections: list[dict] = []
if len(view.services) <= 1:
    scope = view.services[0] if view.services else "all"
    frame = data.load_summary(snap, view)
    st.subheader(f"{spec.label}: {'all services' if scope == 'all' else scope}")
    event = st.plotly_chart(
        charts.trend_figure(frame, spec, view.grain, annotations=annotations, log_y=log_y),
        on_select="rerun", selection_mode="points", key=f"trend-{spec.key}", config=ui.PLOTLY_CONFIG,
    )
    selections += ui.selected_points(event)
    ui.download_csv(frame[["period_start", "service", spec.column, spec.count_column, "environment", "grain",
                           "time_zone"]], f"{spec.key}-{view.grain}", key=f"trend-{spec.key}-csv",
                    label="Download chart data")

per_service = data.load_summary(snap, view, by_service=True)
services = list(view.services) or (
    per_service.groupby("service")["deployments"].sum().sort_values(ascending=False).index.tolist()
)
if len(services) > 1 or not view.services:
    shown = services[:MAX_SERVICES]
    st.subheader(f"{spec.short_label} per service")
    if len(services) > MAX_SERVICES:
        st.caption(f"The {MAX_SERVICES} services with the most deployments of {len(services)}; "
                   "pick services in the sidebar to see others.")
    event = st.plotly_chart(
        charts.small_multiples_figure(per_service, spec, view.grain, shown, log_y=log_y),
        on_select="rerun", selection_mode="points", key=f"multiples-{spec.key}", config=ui.PLOTLY_CONFIG,
    )
    selections += ui.selected_points(event)
    ui.download_csv(per_service[per_service["service"].isin(shown)][
        ["period_start", "service", spec.column, spec.count_column, "environment", "grain", "time_zone"]],
        f"{spec.key}-{view.grain}-by-service", key=f"multiples-{spec.key}-csv", label="Download chart data")

for n, point in enumerate(selections[:2]):
    period_start, service = point["customdata"][0], point["customdata"][1]
    ui.show_records(snap, spec.column, view.grain, period_start, service, view.environment,
                    title=spec.label, key=f"records-{n}")

satisfaction = data.load_survey(snap, view)
if not satisfaction.empty:
    st.subheader("Developer satisfaction (survey)")
    st.caption("Mean score of the survey answers in each period, for everyone who answered (`dora ingest "
               "survey`); the hover shows how many answered.")
    survey = satisfaction[satisfaction["team"] == "all"].rename(columns={"team": "service"})
    survey["scale"] = [f"{lo:g}–{hi:g}" for lo, hi in zip(survey["scale_min"], survey["scale_max"])]
    scales = list(dict.fromkeys(survey["scale"]))
    st.plotly_chart(
        charts.series_figure(survey, series="scale", series_labels={s: f"scale {s}" for s in scales},
                             value="satisfaction_mean", count="responses", count_label="answers", grain=view.grain,
                             unit="satisfaction (mean score)", annotations=annotations,
                             colours=dict(zip(scales, charts.shades(OKABE_ITO["sky"], len(scales))[::-1])),
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
