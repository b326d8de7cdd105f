"""Every page under Streamlit's AppTest: no exception, the key elements, the metrics layer's numbers,
filters from the URL, drill-down, and a friendly explanation instead of a traceback when there is no data."""
from __future__ import annotations

import base64
from datetime import date

import numpy as np
import plotly.io as pio
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.catalog import format_change, format_value, plot_value
from dashboard.charts import metric_axis_title
from ingest.warehouse import open_warehouse, publish_snapshot, snapshot_path
from metrics.build import MetricSettings
from metrics.export import Filters, query_summary
from metrics.registry import PERIOD_METRICS
from tests.test_dashboard_fixture import APP, build_warehouse, fixture_db  # noqa: F401

PAGES = ["views/overview.py", "views/trends.py", "views/before_after.py", "views/lead_time.py",
         "views/batch_size.py", "views/pipeline.py", "views/incidents.py", "views/quality.py"]


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


def open_app(db, monkeypatch, page: str | None = None, **query) -> AppTest:
    """The app on `db` (as `dora dashboard --db` would start it), on `page`, with a URL query."""
    monkeypatch.setenv("DORA_DB", str(db))
    monkeypatch.delenv("DORA_CONFIG", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in query.items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(page)
        app.run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def summary(db, **filters):
    con = open_warehouse(snapshot_path(db), read_only=True)
    try:
        return query_summary(con, Filters(**filters), MetricSettings())
    finally:
        con.close()


def plotted(spec, column) -> list:
    """What a chart should plot for a summary column: rates in %, undefined values as gaps (NaN)."""
    return [float("nan") if v is None else v for v in (plot_value(spec, x) for x in column)]


def figures(app: AppTest) -> list:
    return [pio.from_json(chart.proto.spec) for chart in app.get("plotly_chart")]


def values(array) -> list:
    """A trace's values: plotly ships numeric arrays base64-encoded ({'dtype', 'bdata'})."""
    if isinstance(array, dict):
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=array["dtype"]).tolist()
    return [float("nan") if v is None else v for v in array]  # a gap in the line: no value


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_charts_and_tables_without_an_exception(fixture_db, monkeypatch, page):
    app = open_app(fixture_db, monkeypatch, page)
    assert app.title and not app.error
    assert app.get("plotly_chart"), "a chart"
    assert app.download_button, "a CSV download"
    assert [w.label for w in app.sidebar.date_input] == ["Dates"]
    assert [w.label for w in app.sidebar.multiselect] == ["Services"]


def test_overview_cards_show_the_metrics_layers_latest_period(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch)
    frame = summary(fixture_db, grain="month")
    june, may = frame.iloc[-1], frame.iloc[-2]
    cards = {m.label.split(" :")[0]: m for m in app.metric}  # labels end in a level badge where one applies
    assert set(cards) == {m.name for m in PERIOD_METRICS}
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    levels = dict(con.execute(
        "SELECT metric, level FROM metric_levels WHERE report = '2024' AND grain = 'month' AND service = 'all' "
        "AND environment = 'production' AND period_start = DATE '2026-06-01' AND level IS NOT NULL").fetchall())
    con.close()
    badges = {m.label.split(" :")[0]: m.label.split("[")[1].rstrip("]") for m in app.metric if "-badge[" in m.label}
    assert badges == {"Deployment frequency": levels["deployment_frequency"].capitalize(),
                      "Change lead time": levels["lead_time"].capitalize(),
                      "Change fail rate": levels["change_failure_rate"].capitalize()}
    for spec in PERIOD_METRICS:
        assert cards[spec.name].value == format_value(spec, june[spec.column])
    # June's one deployment over its 2 observed days (the data ends on 2 June): 0.5 a day, 3.5 a week
    assert [cards[m.name].value for m in PERIOD_METRICS] == ["3.5 per week", "5.0 days", "0.0%", "–", "0.0%", "–"]
    # 2 of June's 30 days and one deployment: no verdict against May, whichever way the values moved
    badges = [m.value for m in app.markdown if "dora-badge" in m.value]
    assert len(badges) == 4 and all(">too early to tell</span> vs May 2026" in b for b in badges)
    # the data ends on 2 June: the month is not over
    assert "**All services** · Jun 2026 (so far: 2 of 30 days), compared with May 2026" in \
        [m.value for m in app.markdown]
    deployments = figures(app)[0]
    assert values(deployments.data[0].y) + values(deployments.data[1].y) == [3, 0, 1, 1, 2, 0]
    assert [t.value for t in app.dataframe][0]["Source"].tolist() == ["eventlog"]  # data freshness


def test_overview_shows_one_row_of_cards_per_selected_service(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, services=["payments", "search"])
    assert len(app.metric) == 2 * len(PERIOD_METRICS)
    headings = [m.value for m in app.markdown if m.value.startswith("**")]
    assert headings[:2] == ["**payments** · Jun 2026 (so far: 2 of 30 days), compared with May 2026",
                            "**search** · May 2026, compared with Apr 2026"]


@pytest.mark.parametrize("spec", PERIOD_METRICS, ids=lambda m: m.id)
def test_trend_charts_plot_the_metrics_layers_values(fixture_db, monkeypatch, spec):
    app = open_app(fixture_db, monkeypatch, "views/trends.py", grain="Week")
    app.button_group(key="metric").set_value(spec.id).run()
    assert not app.exception
    overall, per_service = figures(app)
    expected = plotted(spec, summary(fixture_db, grain="week")[spec.column])
    assert values(overall.data[0].y) == pytest.approx(expected, nan_ok=True)
    assert overall.layout.yaxis.title.text == metric_axis_title(spec, expected)  # durations: the data's unit
    assert overall.layout.xaxis.title.text == "week (starting Monday)"
    by_service = summary(fixture_db, grain="week", by_service=True)
    for trace in per_service.data:
        part = by_service[by_service["service"] == trace.name]
        assert values(trace.y) == pytest.approx(plotted(spec, part[spec.column]), nan_ok=True)


def test_filters_come_from_the_url_so_a_view_can_be_shared(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, "views/trends.py", grain="Quarter", services="search",
                   dates=["2026-05-01", "2026-05-31"], metric="Change lead time")
    assert app.sidebar.multiselect[0].value == ["search"]
    assert app.sidebar.date_input[0].value == (date(2026, 5, 1), date(2026, 5, 31))
    assert app.button_group(key="grain").value == "quarter"
    assert app.button_group(key="metric").value == "lead_time"
    (overall,) = figures(app)[:1]
    expected = summary(fixture_db, grain="quarter", service="search", from_date=date(2026, 5, 1),
                       to_date=date(2026, 5, 31))["lead_time_median_hours"].tolist()
    assert values(overall.data[0].y) == pytest.approx(expected)
    assert app.subheader[0].value == "Change lead time (median): search"


def test_selecting_a_bar_lists_the_deployments_behind_it(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch)
    app.session_state["deployments-all"] = {"selection": {
        "points": [{"customdata": ["2026-04-01", "all", "Apr 2026", 4, 1]}],
        "point_indices": [0], "box": [], "lasso": []}}
    app.run()
    assert not app.exception
    assert "**Deployments, Apr 2026, all services: 4 records, 4 counted**" in [m.value for m in app.markdown]
    assert any("recomputed from these rows it is 4, as stored (4)" in c.value for c in app.caption)
    records = app.dataframe[0].value
    assert records["Record"].tolist() == ["pay-1", "srch-1", "pay-2", "pay-3"]
    assert records["Failed"].tolist() == [False, False, True, False]
    assert "rolled back" in records["Rule that linked it"][2]


def test_selecting_a_trend_point_lists_the_changes_behind_a_median(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, "views/trends.py", metric="Change lead time")
    app.session_state["trend-lead_time"] = {"selection": {
        "points": [{"customdata": ["2026-05-01", "all", "May 2026", "4.9 days", "2 changes deployed"]}],
        "point_indices": [1], "box": [], "lasso": []}}
    app.run()
    assert not app.exception
    assert "**Change lead time (median), May 2026, all services: 2 records, 2 counted**" in \
        [m.value for m in app.markdown]
    assert app.dataframe[0].value["Record"].tolist() == ["acme/payments#5", "acme/search#2"]


def test_incidents_page_counts_equal_the_metrics_layer(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, "views/incidents.py")
    cards = {m.label: m.value for m in app.metric}
    daily = summary(fixture_db, grain="day")
    assert cards == {"Incidents": str(daily["incidents"].sum()),
                     "Unresolved": str(daily["incidents"].sum() - daily["incidents_resolved"].sum()),
                     "Attributed": "2", "Failed deployments": str(daily["failed_deployments"].sum())}
    assert cards["Incidents"] == "2" and cards["Failed deployments"] == "3"
    table = app.dataframe[0].value
    assert table["Incident"].tolist() == ["INC-2", "INC-1"]
    assert table["Why this deployment"].tolist() == [
        "named by the incident (caused_by_deployment)",
        "latest deployment of its service within the attribution window"]


def test_quality_page_counts_every_finding(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, "views/quality.py")
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    counts = dict(con.execute("SELECT finding, count(*) FROM dq_findings GROUP BY ALL").fetchall())
    con.close()
    assert {m.label: m.value for m in app.metric}["Findings in the selected view"] == str(sum(counts.values()))
    (chart,) = figures(app)
    assert dict(zip([c[0] for c in chart.data[0].customdata], values(chart.data[0].x))) == counts
    assert "Changes never deployed — 1" in [e.label for e in app.expander]


def test_no_snapshot_explains_what_to_run(tmp_path, monkeypatch):
    for page in PAGES:
        app = open_app(tmp_path / "dora.duckdb", monkeypatch, page)
        assert [i.value.splitlines()[0] for i in app.info] == ["**No data to show yet**"]
        assert "dora ingest events" in app.info[0].value and not app.get("plotly_chart")


def test_an_empty_warehouse_explains_what_to_run(tmp_path, monkeypatch):
    db = tmp_path / "dora.duckdb"
    con = open_warehouse(db)
    publish_snapshot(con, db)
    con.close()
    app = open_app(db, monkeypatch)
    assert app.info[0].value.startswith("**No metrics yet**")


def test_an_unreadable_snapshot_explains_what_to_run(tmp_path, monkeypatch):
    snapshot_path(tmp_path / "dora.duckdb").write_bytes(b"not a database" * 100)
    app = open_app(tmp_path / "dora.duckdb", monkeypatch)
    assert app.info[0].value.startswith("**The warehouse snapshot cannot be read**")


def test_a_second_load_shows_without_a_restart(tmp_path, monkeypatch):
    from tests.test_dashboard_fixture import dashboard_events, later_events
    db = build_warehouse(tmp_path / "a")
    app = open_app(db, monkeypatch)
    assert app.sidebar.date_input[0].value == (date(2026, 4, 6), date(2026, 6, 1))
    build_warehouse(tmp_path / "a", dashboard_events() + later_events())  # a writer publishes a new snapshot
    app.run()
    assert app.sidebar.date_input[0].value[1] == date(2026, 7, 7)
    assert any(m.value.startswith("**All services** · Jul 2026 (so far: ") and m.value.endswith(
        "compared with Jun 2026") for m in app.markdown)


def test_a_chosen_date_range_stays_when_a_load_adds_days(tmp_path, monkeypatch):
    from tests.test_dashboard_fixture import dashboard_events, later_events
    db = build_warehouse(tmp_path / "a")
    app = open_app(db, monkeypatch, dates=["2026-04-06", "2026-05-31"])
    build_warehouse(tmp_path / "a", dashboard_events() + later_events())
    app.run()
    assert app.sidebar.date_input[0].value == (date(2026, 4, 6), date(2026, 5, 31))
    assert "**All services** · May 2026, compared with Apr 2026" in [m.value for m in app.markdown]


def long_from_wide(frame, stages):
    return {stage: frame[f"{stage}_median_hours"].tolist() for stage in stages}


def test_lead_time_page_plots_the_breakdown_export(fixture_db, monkeypatch):
    from metrics.insight_tables import query_lead_time_breakdown
    app = open_app(fixture_db, monkeypatch, "views/lead_time.py")
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    expected = query_lead_time_breakdown(con, Filters(grain="month"), MetricSettings())
    con.close()
    stages, distribution = figures(app)
    assert [t.name for t in stages.data] == ["Coding", "Pickup", "Review", "Deploy wait"]
    for trace, stage in zip(stages.data, ["coding", "pickup", "review", "deploy_wait"]):
        assert values(trace.y) == pytest.approx(expected[f"{stage}_median_hours"].tolist(), nan_ok=True)
    assert stages.layout.yaxis.type == "log"
    assert [t.name for t in distribution.data if t.type == "box"] == ["Coding", "Pickup", "Review", "Deploy wait"]


def test_batch_size_page_plots_the_batch_export(fixture_db, monkeypatch):
    from metrics.insight_tables import query_batch_size
    app = open_app(fixture_db, monkeypatch, "views/batch_size.py")
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    expected = query_batch_size(con, Filters(grain="month"), MetricSettings())
    con.close()
    share, cfr, recovery = figures(app)
    changes = expected[expected["dimension"] == "changes"]
    for trace in cfr.data:
        rows = changes[changes["bucket"] == trace.name]
        assert values(trace.y) == pytest.approx([v * 100 for v in rows["change_failure_rate"]], nan_ok=True)
    assert cfr.layout.yaxis.title.text == "change fail rate (%)"
    app.button_group(key="batch").set_value("cadence").run()
    assert not app.exception and figures(app)[0].data[0].name == "1 a week"


def test_pipeline_page_plots_the_pipeline_export_against_the_budget(fixture_db, monkeypatch):
    from metrics.insight_tables import query_pipeline
    app = open_app(fixture_db, monkeypatch, "views/pipeline.py")
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    expected = query_pipeline(con, Filters(grain="month"), MetricSettings())
    con.close()
    runs = expected[expected["stage"] == "(run)"]
    ci = figures(app)[0]
    assert values(ci.data[0].y) == pytest.approx(runs["ci_p50_minutes"].tolist())
    assert [s.y0 for s in ci.layout.shapes] == [15.0]  # the CI budget line


def test_before_after_page_shows_the_comparison_of_the_metrics_layer(fixture_db, monkeypatch):
    from metrics import compare
    app = open_app(fixture_db, monkeypatch, "views/before_after.py",
                   before_dates=["2026-04-06", "2026-04-30"], after_dates=["2026-05-01", "2026-06-01"])
    con = open_warehouse(snapshot_path(fixture_db), read_only=True)
    expected = compare.compare_windows(con, compare.Window(date(2026, 4, 6), date(2026, 4, 30)),
                                       compare.Window(date(2026, 5, 1), date(2026, 6, 1)), MetricSettings())
    con.close()
    table = app.dataframe[0].value
    assert table["Metric"].tolist() == expected["label"].tolist()
    # April: 4 deployments in 25 days; lead times 49, 101, 116, 120, 120 h (median 116 h); 1 of 4 failed
    assert table["Before"].tolist()[:3] == ["0.16 /day", "4.8 days", "25.0%"]
    assert table["n (before → after)"].tolist()[0] == "4 → 3"
    verdicts = {"improved": "▲ improved", "worse": "▼ worse", "not enough data": "? not enough data",
                "not distinguishable from noise": "≈ not distinguishable from noise"}
    assert table["Verdict"].tolist() == [verdicts[v] for v in expected["verdict"]]


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "not-a-real-secret",
        "client_id": "dora", "client_secret": "not-a-real-secret",
        "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.mark.parametrize("user, shows", [
    ({"is_logged_in": False}, "sign in"),
    ({"is_logged_in": True, "email": "lead@acme.example"}, "dashboard"),
    ({"is_logged_in": True, "email": "someone@elsewhere.example"}, "refused"),
])
def test_with_oidc_configured_only_allowed_signed_in_people_see_data(fixture_db, monkeypatch, user, shows):
    monkeypatch.setenv("DORA_DB", str(fixture_db))
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.secrets["auth"] = AUTH
    app.secrets["dashboard"] = {"allowed_domains": ["acme.example"]}
    app.user = user
    app.run()
    assert not app.exception
    charts = app.get("plotly_chart")
    if shows == "sign in":
        assert [b.label for b in app.button] == ["Sign in"] and not charts and not app.metric
    elif shows == "refused":
        assert app.error[0].value.startswith("someone@elsewhere.example may not see this dashboard")
        assert not charts and not app.metric
    else:
        assert charts and len(app.metric) == 6


def test_trends_show_developer_satisfaction_when_a_survey_is_loaded(tmp_path, monkeypatch):
    import subprocess
    import sys
    from tests.test_dashboard_fixture import ROOT
    db = build_warehouse(tmp_path)
    survey = tmp_path / "survey.csv"
    survey.write_text("date,team,respondent,score,scale\n2026-04-15,payments,p1,3,1-5\n2026-04-15,search,s1,4,1-5\n"
                      "2026-05-15,payments,p1,5,1-5\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "dora", "ingest", "survey", str(survey), "--db", str(db), "-q"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    app = open_app(db, monkeypatch, "views/trends.py")
    assert "Developer satisfaction (survey)" in [h.value for h in app.subheader]
    satisfaction = figures(app)[-1]
    assert values(satisfaction.data[0].y) == [3.5, 5.0]


@pytest.mark.parametrize("query", [{"grain": "Day"}, {"env": "staging"}], ids=["by day", "staging"])
def test_every_page_explains_a_view_the_metrics_layer_does_not_compute(fixture_db, monkeypatch, query):
    app = open_app(fixture_db, monkeypatch, **query)
    for page in PAGES:
        app.switch_page(page).run()
        assert not app.exception, (page, [e.message for e in app.exception])
        assert app.title and not app.error, page
        assert app.get("plotly_chart") or app.info or app.success, f"{page}: a chart, or a sentence saying why not"
