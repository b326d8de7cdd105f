"""Batch size and risk: change fail rate and recovery by batch size (changes, lines) and by cadence."""
from __future__ import annotations

import streamlit as st

from core.errors import DoraError
from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.catalog import COLOURS, OKABE_ITO, format_duration_minutes

DIMENSIONS = {
    "changes": "Changes per deployment",
    "lines": "Lines changed per deployment",
    "cadence": "Deploys of the service that week",
}
CFR_COLOUR, RECOVERY_COLOUR = COLOURS["change_failure_rate"], COLOURS["failed_deployment_recovery_time"]

st.title("Batch size and risk")
st.caption("Deploy more, fail less? Change fail rate and recovery by how much each deployment carries.")
snap, status, view = ui.load_context()
if "metric_batch_size" not in status.tables:
    ui.explain_and_stop("Batch size is not built in this warehouse yet",
                        "Rebuild the metrics with `dora metrics`; the dashboard picks them up on its next refresh.")
dimension = st.segmented_control("Group deployments by", list(DIMENSIONS), default="changes", key="batch",
                                 bind="query-params", format_func=DIMENSIONS.get, required=True) or "changes"
st.caption("Each deployment falls in one bucket; buckets with few deployments are small on the first chart, "
           "so their rates are read with care. Click a point or bar to list its deployments.")

try:
    batches = data.load_batches(snap, view)
except DoraError as exc:  # e.g. by day, or outside production: the metrics layer says why
    ui.explain_and_stop("Batch size is not computed for this view", str(exc))
frame = batches[batches["dimension"] == dimension]
buckets = list(dict.fromkeys(frame["bucket"]))  # the export lists buckets small to large
labels = {b: b if dimension != "cadence" else f"{b} a week" for b in buckets}
scopes = list(view.services) or ["all"]
tabs = st.tabs(["All services" if s == "all" else s for s in scopes]) if len(scopes) > 1 else [st.container()]
for scope, tab in zip(scopes, tabs):
    with tab:
        part = frame[frame["service"] == scope]
        if part.empty:
            st.info("No production deployments in the selected view.")
            continue
        figures = [
            ("Share of deployments", dict(value="share_of_deployments", count="deployments",
                                          count_label="deployments", unit="% of deployments", kind="bar",
                                          percent=True, colours=dict(zip(buckets, charts.shades(OKABE_ITO["blue"], len(buckets)))))),
            ("Change fail rate", dict(value="change_failure_rate", count="deployments", count_label="deployments",
                                      unit="change fail rate (%)", percent=True,
                                      colours=dict(zip(buckets, charts.shades(CFR_COLOUR, len(buckets)))))),
            ("Failed deployment recovery (median)", dict(
                value="failed_deployment_recovery_median_minutes", count="failed_deployment_recoveries",
                count_label="failed deployments recovered", unit="recovery time (minutes, median)",
                value_format=format_duration_minutes,
                colours=dict(zip(buckets, charts.shades(RECOVERY_COLOUR, len(buckets)))))),
        ]
        selections = []
        for title, options in figures:
            st.subheader(title)
            key = f"batch-{scope}-{options['value']}"
            event = st.plotly_chart(
                charts.series_figure(part, series="bucket", series_labels=labels, grain=view.grain,
                                     extra=("dimension",), **options),
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
