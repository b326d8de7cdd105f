"""Incidents: each incident's recovery time and the deployment it is attributed to (and why);
failed deployments with why they count as failed, how they recovered, their blast radius, and the
share caught before their rollout reached 100% over time."""
from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.catalog import COLOURS

st.title("Incidents and failed deployments")
snap, status, view = ui.load_context()
counts, incidents = data.load_incidents(snap, view)
failed_total, failures = data.load_failures(snap, view)

a, b, c, d = st.columns(4)
a.metric("Incidents", f"{counts['incidents']:,}", border=True, help="Incidents that started in the selected dates.")
b.metric("Unresolved", f"{counts['incidents'] - counts['resolved']:,}", border=True,
         help="No resolution event yet: left out of recovery times (see Data quality).")
c.metric("Attributed", f"{counts['attributed']:,}", border=True,
         help="Attributed to a deployment: explicitly (caused_by_deployment / caused_by_commit) or by the "
              "attribution window.")
d.metric("Failed deployments", f"{failed_total:,}", border=True,
         help="Rolled back, or with an incident attributed to them; counted once each.")


def shown_note(shown: int, total: int, what: str) -> None:
    if shown < total:
        st.caption(f"The newest {shown:,} of {total:,} {what}; the CSV download has them all.")


incident_tab, failure_tab = st.tabs([f"Incidents ({counts['incidents']:,})", f"Failed deployments ({failed_total:,})"])
with incident_tab:
    if incidents.empty:
        st.info("No incidents started in the selected dates.")
    else:
        st.caption("Recovery time of each resolved incident. Click a point for its details.")
        shown_note(len(incidents), counts["incidents"], "incidents")
        event = st.plotly_chart(
            charts.incidents_figure(incidents, colour=COLOURS["incident_recovery_time"]),
            on_select="rerun", selection_mode="points", key="incidents-chart", config=ui.PLOTLY_CONFIG,
        )
        columns = ["incident_id", "service", "severity", "started_at", "recovery_minutes", "attributed_to"]
        ui.download_csv(lambda: data.read_incidents(snap, view)[columns], "incident-recovery",
                        key="incidents-chart-csv", label="Download chart data")
        for point in ui.selected_points(event)[:1]:
            incident_id = point["customdata"][0]
            row = incidents[incidents["incident_id"] == incident_id]
            st.markdown(f"**{incident_id}**")
            ui.show_table(row, ["incident_id", "service", "severity", "started_at", "resolved_at",
                                "recovery_minutes", "attributed_to", "attributed_deployment_finished_at",
                                "attribution_rule"], key="incident-selected", file_name=f"incident-{incident_id}")
            deployment = row["attributed_to"].iloc[0]
            if isinstance(deployment, str):
                failure = failures[failures["deployment_id"] == deployment]
                if not failure.empty:
                    st.markdown(f"Deployment **{deployment}** counts as failed:")
                    ui.show_table(failure, ["deployment_id", "service", "finished_at", "reason", "incident_ids",
                                            "recovery_minutes", "recovery_rule"], key="incident-failure",
                                  file_name=f"failure-{deployment}")
        ui.show_table(incidents, ["incident_id", "service", "severity", "started_at", "resolved_at",
                                  "recovery_minutes", "attributed_to", "attribution_rule"],
                      key="incidents-table", file_name="incidents", everything=lambda: data.read_incidents(snap, view))

with failure_tab:
    if failures.empty:
        st.info("No failed deployments in the selected dates.")
    else:
        st.subheader("Caught in rollout")
        st.caption("The share of failed deployments recovered before their rollout reached 100% of traffic "
                   "(a canary rolled back, an incident resolved mid-rollout): what progressive delivery buys. "
                   "A period without failed deployments has no share.")
        periods = data.load_summary(snap, view)
        caught = periods[["period_start", "service", "caught_in_rollout_share", "failed_deployments"]]
        scopes = list(dict.fromkeys(caught["service"]))
        st.plotly_chart(
            charts.series_figure(caught, series="service", value="caught_in_rollout_share",
                                 series_labels={s: "All services" if s == "all" else s for s in scopes},
                                 count="failed_deployments", count_label="failed deployments", grain=view.grain,
                                 unit="% of failed deployments", percent=True,
                                 colours=dict(zip(scopes, charts.shades(COLOURS["change_failure_rate"],
                                                                        len(scopes))))),
            key="caught-chart", config=ui.PLOTLY_CONFIG)
        ui.download_csv(caught, f"caught-in-rollout-{view.grain}", key="caught-chart-csv",
                        label="Download chart data")
        st.subheader("Failed deployments")
        st.caption("Failed deployment recovery runs from the deployment's finish (or from its first exposure, "
                   "when it was recovered before its rollout finished) to its rollback, or to the resolution of "
                   "the last incident attributed to it, whichever comes first. Blast radius: the highest share "
                   "of traffic it served before it recovered.")
        shown_note(len(failures), failed_total, "failed deployments")
        ui.show_table(failures, ["deployment_id", "service", "exposed_at", "finished_at", "unplanned", "reason",
                                 "incident_ids", "rolled_back_at", "recovered_at", "recovery_minutes",
                                 "recovery_rule", "recovery_from", "blast_radius_percent", "caught_in_rollout"],
                      key="failures-table", file_name="failed-deployments",
                      everything=lambda: data.read_failures(snap, view))
