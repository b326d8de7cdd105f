"""Incidents: incidents and failed deployments per period by severity; each incident's recovery time
and the deployment it is attributed to (and why); failed deployments with why they count as failed,
how they recovered, their blast radius, and the share caught before their rollout reached 100% over
time. Impossible recovery times (negative) are listed beside the charts, never plotted."""
from __future__ import annotations

import streamlit as st

from dashboard import charts, data, ui
from dashboard.catalog import COLOURS, format_duration_minutes

st.title("Incidents and failed deployments")
snap, status, view = ui.load_context()
counts, incidents = data.load_incidents(snap, view)
failed_total = data.load_failure_count(snap, view)  # the list is read where it is shown (load_failures)
annotations = data.load_annotations(snap, view)
impossible = data.load_impossible_recoveries(snap, view)

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


def list_impossible(rows) -> None:
    """The impossible recovery times left out of the charts, with the way to Data quality."""
    st.markdown(f"**Not plotted: {len(rows):,} impossible recovery time{'s' if len(rows) != 1 else ''}**")
    st.caption("A recovery before the start (an incident resolved before it started, a failed deployment "
               "recovered before it was exposed) is a data error: it is left out of every recovery time.")
    ui.show_table(rows.assign(recovery=rows["recovery_minutes"].map(format_duration_minutes)),
                  ["kind", "id", "service", "recovery"], key="impossible-table", file_name="impossible-recoveries")
    st.page_link("views/quality.py", label="See them in Data quality", icon=":material/fact_check:")


if counts["incidents"] or failed_total:
    st.subheader(f"Incidents and failed deployments per {view.grain}")
    st.caption("By severity: a failed deployment takes its most severe incident's (the first in sort order, "
               "sev1 before sev2); one that only a rollback made fail is grey.")
    by_period, failed_by_period = data.load_incident_periods(snap, view)
    st.plotly_chart(charts.incident_periods_figure(by_period, failed_by_period, view.grain, annotations=annotations),
                    key="incident-periods", config=ui.PLOTLY_CONFIG)
    ui.download_csv(by_period, f"incidents-{view.grain}", key="incident-periods-csv", label="Download chart data")


def show_incidents() -> None:
    """The incidents tab: each resolved incident's recovery time, the one clicked, all of them listed."""
    if incidents.empty:
        st.info("No incidents started in the selected dates.")
    else:
        st.caption("Recovery time of each resolved incident. Click a point for its details.")
        shown_note(len(incidents), counts["incidents"], "incidents")
        chart, beside = st.columns([3, 1]) if not impossible.empty else (st.container(), None)
        event = chart.plotly_chart(
            charts.incidents_figure(incidents, colour=COLOURS["incident_recovery_time"], annotations=annotations),
            on_select="rerun", selection_mode="points", key="incidents-chart", config=ui.PLOTLY_CONFIG,
        )
        if beside is not None:
            with beside:
                list_impossible(impossible)
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
                _, failures = data.load_failures(snap, view)
                failure = failures[failures["deployment_id"] == deployment]
                if not failure.empty:
                    st.markdown(f"Deployment **{deployment}** counts as failed:")
                    ui.show_table(failure, ["deployment_id", "service", "finished_at", "reason", "incident_ids",
                                            "recovery_minutes", "recovery_rule"], key="incident-failure",
                                  file_name=f"failure-{deployment}")
        ui.show_table(incidents, ["incident_id", "service", "severity", "started_at", "resolved_at",
                                  "recovery_minutes", "attributed_to", "attribution_rule"],
                      key="incidents-table", file_name="incidents", everything=lambda: data.read_incidents(snap, view))


def show_failures() -> None:
    """The failed deployments tab: the share caught in rollout over time, and the list."""
    _, failures = data.load_failures(snap, view)
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
                                 series_labels={s: ui.team_label(view.team) if s == "all" else s for s in scopes},
                                 count="failed_deployments", count_label="failed deployments", grain=view.grain,
                                 unit="% of failed deployments", percent=True,
                                 colours=dict(zip(scopes, charts.shades(COLOURS["change_failure_rate"],
                                                                        len(scopes)))), annotations=annotations),
            key="caught-chart", config=ui.PLOTLY_CONFIG)
        ui.download_csv(caught, f"caught-in-rollout-{view.grain}", key="caught-chart-csv",
                        label="Download chart data")
        st.subheader("Failed deployments")
        st.caption("Failed deployment recovery runs from the deployment's finish (or from its first exposure, "
                   "when it was recovered before its rollout finished) to its rollback, or to the resolution of "
                   "the last incident attributed to it, whichever comes first. Blast radius: the highest share "
                   "of traffic it served before it recovered.")
        shown_note(len(failures), failed_total, "failed deployments")
        negative = impossible[impossible["kind"] == "failed deployment"]
        if not negative.empty:
            st.warning(f"{len(negative):,} failed deployments recovered before they were exposed: an impossible "
                       "recovery time, left out of recovery times (listed on the Incidents tab and in Data quality).",
                       icon=":material/report:")
        ui.show_table(failures, ["deployment_id", "service", "exposed_at", "finished_at", "unplanned", "reason",
                                 "incident_ids", "rolled_back_at", "recovered_at", "recovery_minutes",
                                 "recovery_rule", "recovery_from", "blast_radius_percent", "caught_in_rollout"],
                      key="failures-table", file_name="failed-deployments",
                      everything=lambda: data.read_failures(snap, view))


# Only the open tab is drawn: Streamlit draws every tab's content by default, here a second chart and a
# table of up to 5,000 rows nobody sees until they choose that tab (which reruns the page to draw it).
tabs = st.tabs([f"Incidents ({counts['incidents']:,})", f"Failed deployments ({failed_total:,})"],
               key="incident-tabs", on_change="rerun")
for tab, show in zip(tabs, (show_incidents, show_failures)):
    if tab.open is not False:
        with tab:
            show()
