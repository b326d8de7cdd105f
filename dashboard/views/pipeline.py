"""Pipeline: CI time and stage durations against the CI budget, and what the gates stopped."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.errors import DoraError
from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.catalog import NEUTRAL, OKABE_ITO, format_duration_minutes

RUN = "(run)"
PIPELINE = OKABE_ITO["sky"]  # pipelines are not a DORA metric: the one Okabe–Ito colour the delivery metrics leave
STOPS = {
    "stops_never_deployed": ("never deployed: a failure prevented", OKABE_ITO["green"]),
    "stops_deployed_later_ok": ("deployed later, did not fail", NEUTRAL),
    "stops_caught_in_rollout": ("deployed later, failed, caught in rollout", OKABE_ITO["orange"]),
    "stops_deployed_later_failed": ("deployed later, and failed", OKABE_ITO["vermillion"]),
    "stops_commit_unknown": ("unknown: the run names no commit", "#D9D9D9"),
}

st.title("Pipeline health")
st.caption("Is the pipeline fast enough, and do its gates stop the builds that would have failed?")
snap, status, view = ui.load_context()
view = ui.require_team_services(snap, view)  # no team figures here: a team's services one by one
annotations = data.load_annotations(snap, view)
try:
    pipeline = data.load_pipeline(snap, view)
except DoraError as exc:
    ui.explain_and_stop("Pipeline health is not computed for this view", str(exc))
if pipeline.empty:
    ui.explain_and_stop("No pipeline runs in this view",
                        "Pipeline health comes from `pipelinerun` and `taskrun` events in your event log "
                        "(docs/eventlog.md). Load them with `dora ingest events FILE`.")
budget = float(pipeline["ci_budget_minutes"].dropna().iloc[0]) if pipeline["ci_budget_minutes"].notna().any() \
    else status.settings.ci_budget_minutes
st.caption(f"CI time: a run's start to the end of its CI stages ({', '.join(status.settings.ci_stages)}); "
           f"the budget is {budget:g} minutes (`ci_budget_minutes` in dora.toml). Click a point for its runs.")

scopes = [s for s in view.services if s in set(pipeline["service"])] or ["all"]
tabs = ui.scope_tabs(["All services" if s == "all" else s for s in scopes], key="pipeline-service")
for scope, tab in zip(scopes, tabs):
    if tab is None:  # only the selected service's tab is drawn
        continue
    with tab:
        part = pipeline[pipeline["service"] == scope]
        runs = part[part["stage"] == RUN]
        st.subheader("Run time against the CI budget")
        long = pd.concat([
            pd.DataFrame({"period_start": runs["period_start"], "service": runs["service"], "series": key,
                          "minutes": runs[column], "runs": runs[count]})
            for key, column, count in (("p50", "ci_p50_minutes", "ci_runs"), ("p90", "ci_p90_minutes", "ci_runs"),
                                       ("run", "duration_p50_minutes", "timed"))
        ], ignore_index=True)
        figure = charts.series_figure(long, series="series", value="minutes", count="runs",
                                      series_labels={"p50": "CI time, median", "p90": "CI time, 90th percentile",
                                                     "run": "whole run to production, median"},
                                      count_label="runs timed", grain=view.grain, unit="run time", per_minute=1,
                                      colours={"p50": PIPELINE, "p90": PIPELINE, "run": NEUTRAL},
                                      value_format=format_duration_minutes, annotations=annotations)
        charts.budget_line(figure, budget, f"CI budget {budget:g} min")
        event = st.plotly_chart(figure, on_select="rerun", selection_mode="points", key=f"ci-{scope}",
                                config=ui.PLOTLY_CONFIG)
        ui.download_csv(runs, f"pipeline-runs-{view.grain}", key=f"ci-{scope}-csv", label="Download chart data")
        selections = ui.selected_points(event)

        st.subheader("Stage durations (median)")
        stages = part[part["stage"] != RUN]
        order = list(dict.fromkeys(stages["stage"]))  # the export lists stages in the order they run
        st.plotly_chart(
            charts.panels_figure(stages, panel="stage", panels=order, value="duration_p50_minutes", count="timed",
                                 count_label="stage runs timed", grain=view.grain, unit="median", per_minute=1,
                                 colour=PIPELINE, value_format=format_duration_minutes, log_y=True,
                                 annotations=annotations),
            key=f"stages-{scope}", config=ui.PLOTLY_CONFIG)
        ui.download_csv(stages, f"pipeline-stages-{view.grain}", key=f"stages-{scope}-csv", label="Download chart data")

        st.subheader("Runs a gate stopped, and what became of their builds")
        stops = pd.concat([
            pd.DataFrame({"period_start": runs["period_start"], "service": runs["service"], "outcome": key,
                          "stops": runs[key]})
            for key in STOPS
        ], ignore_index=True)
        event = st.plotly_chart(
            charts.series_figure(stops, series="outcome", series_labels={k: v[0] for k, v in STOPS.items()},
                                 value="stops", count=None, count_label="", grain=view.grain,
                                 unit=f"stopped runs per {view.grain}", kind="bar",
                                 colours={k: v[1] for k, v in STOPS.items()}, value_format=lambda v: f"{v:,.0f} runs",
                                 annotations=annotations),
            on_select="rerun", selection_mode="points", key=f"stops-{scope}", config=ui.PLOTLY_CONFIG)
        ui.download_csv(runs[["period_start", "service", "stops", *STOPS, "stops_prevented_share"]],
                        f"pipeline-gate-stops-{view.grain}", key=f"stops-{scope}-csv", label="Download chart data")
        selections += ui.selected_points(event)

        for point in selections[:1]:
            period_start, service, label = point["customdata"][:3]
            records = data.load_pipeline_runs(snap, view.grain, charts.to_date(period_start), service)
            st.markdown(f"**{len(records):,} pipeline runs in {escape_markdown(label)}, "
                        f"{'all services' if service == 'all' else escape_markdown(service)}**")
            ui.show_table(records, key=f"runs-{scope}-records", file_name=f"pipeline-runs-{period_start}-{service}")

with st.expander("The numbers, as `dora export --table pipeline` writes them"):
    ui.show_table(pipeline, key="pipeline-table", file_name=f"pipeline-{view.grain}")
