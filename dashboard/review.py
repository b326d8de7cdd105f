"""The dashboard's "Download the quarterly review" button: the file `dora report` writes, built from
the page's snapshot when clicked (dashboard/report.py's build_review, the same function)."""
from __future__ import annotations

import streamlit as st

from dashboard import data
from dashboard.report import build_review, last_complete_quarter, review_file_name


def render_review_button(snap: data.Snapshot, status: data.Status, view: data.View) -> None:
    """The button for the last complete quarter of the view's scope (one service, the view's team, or
    the organisation); none when the data does not reach that quarter."""
    quarter = last_complete_quarter(status.settings, status.last_day)
    if not status.first_day or status.first_day > quarter.end or status.last_day < quarter.start:
        return
    service = view.single_service
    team = None if service else view.team

    def build_file() -> str:
        with data.read_snapshot(snap) as con:
            return build_review(con, status.settings, quarter, service, view.environment, team=team,
                                teams=view.teams)

    st.download_button(f"Download the quarterly review ({quarter.label})", data=build_file,
                       file_name=review_file_name(quarter, service or team), mime="text/html", on_click="ignore",
                       icon=":material/download:", key="quarterly-review",
                       help="One HTML file that opens offline: the quarter's numbers, story, comparisons, "
                            "trends, levels, batch size and risk, and its CSVs — what `dora report` writes.")
