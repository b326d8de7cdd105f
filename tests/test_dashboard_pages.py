"""The chart pages on literal rows through the real ingest and build, under Streamlit's AppTest: phase
markers on every time chart, the Incidents page's counts by severity and its impossible recovery time
(listed, never plotted), and the Batch size page's pooled comparison with Wilson intervals."""
from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pandas as pd
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard import charts
from tests.test_dashboard_app import open_app
from tests.test_dashboard_fixture import ROOT, at, build_warehouse, change, dashboard_events, deployment
from tools import cdevents

PHASE = pd.Timestamp("2026-05-01")  # the annotation's day: May's first, so May's bars start on it


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def impossible_incident() -> list[dict]:
    """INC-3: resolved 4 minutes before it started (a data error), on a service with no deployment."""
    return [
        cdevents.incident_detected(id="INC-3-start", at=at("2026-05-10", 10), incident="INC-3", service="billing",
                                   severity="sev3"),
        cdevents.incident_resolved(id="INC-3-end", at=at("2026-05-10", 10) - timedelta(minutes=4), incident="INC-3",
                                   service="billing"),
    ]


def annotate(db, tmp_path) -> None:
    """A phase on 1 May, imported as a user does (`dora annotate import`)."""
    csv = tmp_path / "annotations.csv"
    csv.write_text("date,name,service,description\n2026-05-01,Phase 1: remove manual gates,,\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dora", "annotate", "import", str(csv), "--db", str(db), "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def pages_db(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pages")
    db = build_warehouse(directory, dashboard_events() + impossible_incident())
    annotate(db, directory)
    return db


def figures(app: AppTest) -> dict[str, object]:
    """The page's Plotly figures by the chart's key."""
    return {chart_key(chart): pio.from_json(chart.proto.spec) for chart in app.get("plotly_chart")}


def chart_key(chart) -> str:
    """The key a page gave st.plotly_chart (Streamlit's element id is '$$ID-<hash>-<key>')."""
    return chart.proto.id.split("-", 2)[2]


def markers(fig) -> list[pd.Timestamp]:
    """The phase markers: vertical dotted lines (the CI budget is a horizontal dashed one)."""
    return [pd.Timestamp(s.x0) for s in fig.layout.shapes if s.x0 == s.x1 and s.line.dash == "dot"]


@pytest.mark.parametrize("page, query", [
    ("views/trends.py", {}), ("views/pipeline.py", {}), ("views/batch_size.py", {}),
    ("views/incidents.py", {}), ("views/lead_time.py", {}),
])
def test_every_time_chart_carries_the_phase_markers(pages_db, monkeypatch, page, query):
    app = open_app(pages_db, monkeypatch, page, **query)
    time_charts = {k: f for k, f in figures(app).items() if k not in ("stage-distribution", "batch-all-pooled")}  # not over time
    assert time_charts
    for key, fig in time_charts.items():
        assert markers(fig) and set(markers(fig)) == {PHASE}, key
        for trace in fig.data:  # bars start on their period's first day: May's on the marker
            if trace.type == "bar" and trace.width is not None:
                edges = {pd.Timestamp(x) - pd.Timedelta(milliseconds=w / 2) for x, w in zip(trace.x, trace.width)}
                assert all(e.day == 1 for e in edges), key


def test_incidents_page_counts_per_period_by_severity(pages_db, monkeypatch):
    app = open_app(pages_db, monkeypatch, "views/incidents.py")
    fig = figures(app)["incident-periods"]
    incidents = {t.name: (list(t.x), list(t.y)) for t in fig.data if t.yaxis == "y"}
    failed = {t.name: list(t.y) for t in fig.data if t.yaxis == "y2"}
    may = pd.Timestamp("2026-05-16 12:00")  # May's middle
    assert {name: ([pd.Timestamp(x) for x in xs], ys) for name, (xs, ys) in incidents.items()} == {
        "severity sev1": ([may], [1]), "severity sev2": ([may], [1]), "severity sev3": ([may], [1])}
    # April: pay-2 rolled back (no incident); May: pay-4 (INC-1, sev2) and srch-2 (INC-2, sev1)
    assert failed == {"severity sev1": [1], "severity sev2": [1], charts.NO_INCIDENT: [1]}


def test_the_incidents_page_draws_only_the_open_tab(pages_db, monkeypatch):
    app = open_app(pages_db, monkeypatch, "views/incidents.py")
    assert set(figures(app)) == {"incident-periods", "incidents-chart"}  # the failed deployments' tab waits
    app.session_state["incident-tabs"] = app.tabs[1].label  # as a click on "Failed deployments (3)"
    app.run()
    drawn = figures(app)
    assert set(drawn) == {"incident-periods", "caught-chart"} and not app.exception
    assert set(markers(drawn["caught-chart"])) == {PHASE}  # a time chart: the phase markers too


def test_an_impossible_recovery_is_listed_beside_the_chart_not_plotted(pages_db, monkeypatch):
    app = open_app(pages_db, monkeypatch, "views/incidents.py")
    scatter = figures(app)["incidents-chart"]
    plotted = {c[0] for t in scatter.data for c in t.customdata}
    assert plotted == {"INC-1"}  # INC-2 unresolved, INC-3 resolved before it started
    assert "**Not plotted: 1 impossible recovery time**" in [m.value for m in app.markdown]
    listed = [d.value.iloc[0].tolist() for d in app.dataframe if "INC-3" in d.value.iloc[:, 1].tolist()]
    assert listed == [["incident", "INC-3", "billing", "-4.0 min"]]
    assert "quality" in [link.proto.page for link in app.get("page_link")]  # the way to Data quality


def batch_events() -> list[dict]:
    """20 deployments of 1 change (one rolled back) and 20 of 16 changes (five rolled back), in May."""
    events = []
    for n in range(40):
        big = n >= 20
        numbers = list(range(100 * n, 100 * n + (16 if big else 1)))
        finished = at("2026-05-04") + timedelta(hours=6 * n)
        events += [change(k, "shop", finished - timedelta(hours=3)) for k in numbers]
        events.append(deployment(f"shop-{n}", "shop", finished, numbers))
        if n in (0, 20, 21, 22, 23, 24):
            events.append(cdevents.rolledback(id=f"rollback-{n}", at=finished + timedelta(minutes=10), service="shop",
                                              rolled_back_deployment=f"shop-{n}"))
    return events


def test_batch_size_leads_with_the_pooled_comparison_on_literal_rows(tmp_path, monkeypatch):
    db = build_warehouse(tmp_path / "batch", batch_events())
    app = open_app(db, monkeypatch, "views/batch_size.py")
    # Wilson 95%: 1 of 20 → 0.9%–23.6%; 5 of 20 → 11.2%–46.9%
    assert ("**Deployments of 1 change fail 5.0% (95% interval 0.9%–23.6%, 20 deployments); of 16+ changes fail "
            "25.0% (95% interval 11.2%–46.9%, 20 deployments).**") in [m.value for m in app.markdown]
    pooled = figures(app)["batch-all-pooled"]
    by_name = {t.name: t for t in pooled.data}
    assert list(by_name["1"].y) == [5.0] and list(by_name["16+"].y) == [25.0]
    # the empty buckets are shown, grey and hollow (0 deployments < the minimum)
    assert by_name["2–5"].marker.line.color == charts.NEUTRAL and by_name["2–5"].marker.color == "white"
    assert by_name["1"].marker.line.color != charts.NEUTRAL


@pytest.mark.parametrize("page, chart", [("views/lead_time.py", "stages"), ("views/batch_size.py", "batch")])
def test_several_services_draw_only_the_selected_service_s_tab(pages_db, monkeypatch, page, chart):
    """A tab per service, but only the open one's charts are built (a team's 20 services took seconds)."""
    app = open_app(pages_db, monkeypatch, page, services=["payments", "search"])
    assert [t.label for t in app.tabs][:2] == ["payments", "search"]
    drawn = {chart_key(c).split("-")[1] for c in app.get("plotly_chart") if chart_key(c).startswith(f"{chart}-")}
    assert drawn == {"payments"}
