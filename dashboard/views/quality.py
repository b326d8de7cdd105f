"""Data quality: what the metrics left out or could not link, with counts and examples, and rejected records."""
from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.catalog import finding_title
from metrics.quality import FINDINGS as MEANINGS

EXAMPLES = 20

st.title("Data quality")
st.caption("What the metrics could not use or could not link, so you know how far to trust them. "
           "Nothing here is silently dropped: each finding names its records.")
snap, status, view = ui.load_context()
counts = data.load_finding_counts(snap, view)
counts["title"] = counts["finding"].map(finding_title)
rejected_total, rejects = data.load_rejects(snap)

left, right = st.columns(2)
left.metric("Findings in the selected view", f"{int(counts['count'].sum()):,}", border=True,
            help="Records the metrics left out or could not link (dq_findings).")
right.metric("Records rejected at load", f"{rejected_total:,}", border=True,
             help="Lines that were not valid events; kept with their reason (`dora rejects`).")

if counts.empty:
    st.success("No data-quality findings for the selected view.", icon=":material/check_circle:")
else:
    st.subheader("Findings by kind")
    st.caption("Click a bar to list its records.")
    event = st.plotly_chart(charts.findings_figure(counts), on_select="rerun", selection_mode="points",
                            key="findings-chart", config=ui.PLOTLY_CONFIG)
    ui.download_csv(counts[["finding", "title", "count"]], "data-quality-counts", key="findings-chart-csv",
                    label="Download chart data")
    for point in ui.selected_points(event)[:1]:
        code = point["customdata"][0]
        total = int(counts.loc[counts["finding"] == code, "count"].iloc[0])
        rows = data.load_finding_examples(snap, view, code, per_finding=data.LIST_LIMIT)
        st.markdown(f"**{finding_title(code)}: {total:,} records**")
        if len(rows) < total:
            st.caption(f"The newest {len(rows):,}; the CSV download has them all.")
        ui.show_table(rows, ["entity_id", "service", "occurred_at", "detail"], key="findings-selected",
                      file_name=f"data-quality-{code}", everything=lambda: data.read_findings(snap, view, code))

    st.subheader("Each finding, with examples")
    examples = data.load_finding_examples(snap, view, per_finding=EXAMPLES)
    for code, count in zip(counts["finding"], counts["count"]):
        with st.expander(f"{finding_title(code)} — {count:,}"):
            if code in MEANINGS:
                st.caption(MEANINGS[code].capitalize() + ".")
            if count > EXAMPLES:
                st.caption(f"The newest {EXAMPLES} of {count:,}; the download has them all.")
            ui.show_table(examples[examples["finding"] == code], ["entity_id", "service", "occurred_at", "detail"],
                          key=f"finding-{code}", file_name=f"data-quality-{code}",
                          everything=lambda code=code: data.read_findings(snap, view, code))

st.subheader("Rejected records")
if rejected_total == 0:
    st.success("No records were rejected.", icon=":material/check_circle:")
else:
    if rejected_total > len(rejects):
        st.caption(f"The newest {len(rejects):,} of {rejected_total:,}; `dora rejects --limit N` lists more.")
    ui.show_table(rejects, ["ingest_run_id", "file", "line_no", "reason", "raw"], key="rejects",
                  file_name="rejected-records")
