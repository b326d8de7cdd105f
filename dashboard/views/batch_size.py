"""Batch size and risk: change fail rate and recovery by batch size (changes, lines) and by cadence."""
from __future__ import annotations

import streamlit as st

from core.errors import DoraError
from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.catalog import COLOURS, format_duration_minutes

DIMENSIONS = {
    "changes": "Changes per deployment",
    "lines": "Lines changed per deployment",
    "cadence": "Deploys of the service that week",
}
# The buckets that are sizes (small to large), in the headline's words; 'none' and 'unknown' are not.
PHRASES = {
    "changes": {"1": "of 1 change", "2–5": "of 2–5 changes", "6–15": "of 6–15 changes", "16+": "of 16+ changes"},
    "lines": {"<100": "of under 100 lines", "100–400": "of 100–400 lines", "400–2000": "of 400–2000 lines",
              "2000+": "of 2000+ lines"},
    "cadence": {"1": "in a week of 1 deploy", "2–7": "in weeks of 2–7 deploys", "8–35": "in weeks of 8–35 deploys",
                "36+": "in weeks of 36+ deploys"},
}
CFR_COLOUR, RECOVERY_COLOUR = COLOURS["change_failure_rate"], COLOURS["failed_deployment_recovery_time"]

st.title("Batch size and risk")
st.caption("Deploy more, fail less? Change fail rate and recovery by how much each deployment carries.")
snap, status, view = ui.load_context()
view = ui.require_team_services(snap, view)  # no team figures here: a team's services one by one
if "metric_batch_size" not in status.tables:
    ui.explain_and_stop("Batch size is not built in this warehouse yet",
                        "Rebuild the metrics with `dora metrics`; the dashboard picks them up on its next refresh.")
# The URL holds the grouping's id (?batch=lines); its label works too.
dimension = ui.choose_in_url(st.segmented_control, "Group deployments by", DIMENSIONS, key="batch",
                             default="changes", required=True)

try:
    batches = data.load_batches(snap, view)
except DoraError as exc:  # e.g. by day, or outside production: the metrics layer says why
    ui.explain_and_stop("Batch size is not computed for this view", str(exc))
annotations = data.load_annotations(snap, view)
frame = batches[batches["dimension"] == dimension]
buckets = list(dict.fromkeys(frame["bucket"]))  # the export lists buckets small to large
labels = {b: b if dimension != "cadence" else f"{b} a week" for b in buckets}
scopes = list(view.services) or ["all"]
tabs = ui.scope_tabs(["All services" if s == "all" else s for s in scopes], key="batch-service")
for scope, tab in zip(scopes, tabs):
    if tab is None:  # only the selected service's tab is drawn
        continue
    with tab:
        part = frame[frame["service"] == scope]
        if part.empty:
            st.info("No production deployments in the selected view.")
            continue
        pooled = charts.pool_buckets(part)
        headline = charts.pooled_sentence(pooled, PHRASES[dimension], list(PHRASES[dimension]))
        st.subheader("Change fail rate by bucket, over the whole view")
        st.markdown(f"**{headline}**" if headline else
                    f"Fewer than two size buckets have {charts.MIN_DEPLOYMENTS} deployments: too few to compare.")
        st.caption(f"Every deployment of the selected dates counted once, in its bucket; bars: 95% Wilson "
                   f"intervals. A bucket with fewer than {charts.MIN_DEPLOYMENTS} deployments is grey and hollow: "
                   "too few to read. Under each bucket: its deployments (share of all).")
        key = f"batch-{scope}-pooled"
        st.plotly_chart(charts.pooled_figure(pooled, labels, colour=CFR_COLOUR, min_deployments=charts.MIN_DEPLOYMENTS),
                        key=key, config=ui.PLOTLY_CONFIG)
        ui.download_csv(pooled, f"batch-size-{dimension}-pooled", key=f"{key}-csv", label="Download chart data")

        st.subheader(f"Over time, per {view.grain}")
        st.caption(f"One panel per bucket, one scale. Hollow grey points: fewer than {charts.MIN_DEPLOYMENTS} "
                   f"deployments (change fail rate) or {charts.MIN_RECOVERIES} recovered failures (recovery). "
                   "Click a point to list its deployments.")
        figures = [
            ("Change fail rate", dict(value="change_failure_rate", count="deployments", count_label="deployments",
                                      unit="change fail rate (%)", percent=True, colour=CFR_COLOUR,
                                      value_format=lambda v: f"{v:.1%}", min_count=charts.MIN_DEPLOYMENTS)),
            ("Failed deployment recovery (median)", dict(
                value="failed_deployment_recovery_median_minutes", count="failed_deployment_recoveries",
                count_label="failed deployments recovered", unit="recovery, median", per_minute=1,
                colour=RECOVERY_COLOUR, value_format=format_duration_minutes, min_count=charts.MIN_RECOVERIES)),
        ]
        selections = []
        for title, options in figures:
            st.markdown(f"**{title}**")
            key = f"batch-{scope}-{options['value']}"
            event = st.plotly_chart(
                charts.panels_figure(part, panel="bucket", panels=buckets, titles=labels, grain=view.grain,
                                     annotations=annotations, **options),
                on_select="rerun", selection_mode="points", key=key, config=ui.PLOTLY_CONFIG,
            )
            selections += ui.selected_points(event)
            ui.download_csv(part, f"batch-size-{dimension}-{view.grain}", key=f"{key}-csv",
                            label="Download chart data")
        for point in selections[:1]:
            period_start, service, label, _, _, bucket = point["customdata"][:6]
            records = data.load_batch_records(snap, view.grain, charts.to_date(period_start), service,
                                              view.environment, dimension, bucket)
            st.markdown(f"**{len(records):,} deployments in bucket {labels.get(bucket, bucket)} ({DIMENSIONS[dimension]}), "
                        f"{escape_markdown(label)}, {'all services' if service == 'all' else escape_markdown(service)}; "
                        f"{int(records['failed'].sum()):,} failed**")
            ui.show_table(records, key=f"batch-{scope}-records", file_name=f"batch-{dimension}-{bucket}-{period_start}")

with st.expander("The numbers, as `dora export --table batch-size` writes them"):
    ui.show_table(batches, key="batch-table", file_name=f"batch-size-{view.grain}")
