"""Lead time: the coding / pickup / review / deploy-wait breakdown over time, and its distribution."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import DoraError
from dashboard import charts, data, ui
from dashboard.catalog import COLOURS, format_duration_minutes

# The stages in the order they happen (metric_lead_time_breakdown), and what each spans.
STAGES = {
    "coding": ("Coding", "first commit → pull request opened"),
    "pickup": ("Pickup", "opened → first review"),
    "review": ("Review", "first review → merged"),
    "deploy_wait": ("Deploy wait", "merged → running in production"),
}
# One hue, the lead time's, from light (first stage) to dark (last): the order reads by lightness too.
STAGE_COLOURS = dict(zip(STAGES, charts.shades(COLOURS["lead_time"], len(STAGES))))

st.title("Lead time breakdown")
snap, status, view = ui.load_context()
view = ui.require_team_services(snap, view)  # no team figures here: a team's services one by one
if "metric_lead_time_breakdown" not in status.tables:
    ui.explain_and_stop("The lead-time breakdown is not built in this warehouse yet",
                        "Rebuild the metrics with `dora metrics`; the dashboard picks them up on its next refresh.")
st.caption("Median time per stage of the changes first deployed to production in each period. "
           + " · ".join(f"**{label}**: {span}" for label, span in STAGES.values())
           + ". A change missing a timestamp counts only in the stages it has. Click a point for its changes.")
log_y = st.toggle("Logarithmic scale", value=True, key="lead-log",
                  help="Stages differ by orders of magnitude (minutes of pickup, days of coding).")

try:
    breakdown = data.load_breakdown(snap, view)
except DoraError as exc:
    ui.explain_and_stop("The lead-time breakdown is not computed for this view", str(exc))
annotations = data.load_annotations(snap, view)
scopes = list(view.services) or ["all"]
tabs = ui.scope_tabs(["All services" if s == "all" else s for s in scopes], key="lead-service")
for scope, tab in zip(scopes, tabs):
    if tab is None:  # only the selected service's tab is drawn
        continue
    with tab:
        part = breakdown[breakdown["service"] == scope]
        long = pd.concat([
            pd.DataFrame({"period_start": part["period_start"], "service": part["service"], "stage": stage,
                          "median_hours": part[f"{stage}_median_hours"], "changes": part[f"{stage}_changes"]})
            for stage in STAGES
        ], ignore_index=True)
        event = st.plotly_chart(
            charts.series_figure(long, series="stage", series_labels={k: v[0] for k, v in STAGES.items()},
                                 value="median_hours", count="changes", count_label="changes", grain=view.grain,
                                 unit="time in stage, median", per_minute=60, colours=STAGE_COLOURS, log_y=log_y,
                                 annotations=annotations,
                                 value_format=lambda h: format_duration_minutes(h * 60)),
            on_select="rerun", selection_mode="points", key=f"stages-{scope}", config=ui.PLOTLY_CONFIG,
        )
        ui.download_csv(part, f"lead-time-breakdown-{view.grain}", key=f"stages-{scope}-csv",
                        label="Download chart data")
        for point in ui.selected_points(event)[:1]:
            period_start, service, stage = point["customdata"][0], point["customdata"][1], point["customdata"][5]
            ui.show_records(snap, f"{stage}_median_hours", view.grain, period_start, service, view.environment,
                            title=f"{STAGES[stage][0]} (median)", key=f"stages-{scope}-records")

st.subheader("Distribution per stage")
total, spans = data.load_stage_spans(snap, view)
if spans.empty:
    st.info("No changes reached production in the selected view.")
else:
    note = (f"A random {len(spans):,} of the {total:,} changes in the view." if total > len(spans)
            else f"All {total:,} changes in the view.")
    st.caption(f"{note} Boxes: quartiles and median; whiskers: 1.5 × the interquartile range; dots: outliers. "
               "Zero-length and negative spans have no place on a log scale and are left out of the boxes.")
    samples = {STAGES[stage][0]: spans[f"{stage}_hours"] for stage in STAGES}
    st.plotly_chart(charts.distribution_figure(samples, unit="time in stage", per_minute=60, log_y=log_y,
                                               colours={STAGES[k][0]: c for k, c in STAGE_COLOURS.items()}),
                    key="stage-distribution", config=ui.PLOTLY_CONFIG)
    ui.download_csv(spans, "lead-time-stages-per-change", key="stage-distribution-csv", label="Download chart data")

with st.expander("The numbers, as `dora export --table lead-time-breakdown` writes them"):
    ui.show_table(breakdown, key="breakdown-table", file_name=f"lead-time-breakdown-{view.grain}")
