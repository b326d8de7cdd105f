"""Teams and goals on the dashboard (issue 13, items 12 and 13), and links in the CLI's ids (item 10):
the Team filter (shown only with teams configured, kept in the URL) gives every page the team's
figures — equal to `dora metrics --team` (metrics.teams) — and lists only its services' records;
cards show met / missed / no data against the goals; trend charts draw the goal line. AppTest on the
dashboard fixture (payments and search; here payments is team checkout's, search in no team)."""
from __future__ import annotations

import sys

import plotly.io as pio
import pytest
import streamlit as st

from dashboard import data
from dashboard.catalog import NEUTRAL, OKABE_ITO, format_value
from ingest.warehouse import open_warehouse, snapshot_path
from metrics.build import MetricSettings
from metrics.export import Filters, query_summary
from metrics.filters import NO_TEAM, Team
from metrics.goals import Goals, dump_scopes, parse_goal
from metrics.registry import PERIOD_METRICS
from tests.test_dashboard_app import open_app
from tests.test_dashboard_fixture import fixture_db  # noqa: F401
from tests.test_dashboard_overview import verdicts

TEAMS = (Team("checkout", ("payments",)),)
GOALS = Goals(organisation=(parse_goal("change_failure_rate", "<= 5%"), parse_goal("lead_time", "<= 1 day")),
              teams={"checkout": (parse_goal("lead_time", "<= 3 days"),)})


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def with_teams(monkeypatch):
    """The app started as `dora dashboard` starts it when dora.toml has teams and goals."""
    monkeypatch.setattr(sys, "argv", ["app.py", "--teams", dump_scopes(TEAMS, GOALS)])


def team_summary(db, team: str, grain: str = "month"):
    con = open_warehouse(snapshot_path(db), read_only=True)
    try:
        return query_summary(con, Filters(grain=grain, team=team, teams=TEAMS), MetricSettings())
    finally:
        con.close()


def cards(app) -> dict[str, str]:
    return {m.label.split(" :")[0]: m.value for m in app.metric}


def badge_lines(app) -> list[str]:
    return [m.value for m in app.markdown if "dora-badge" in m.value]


def test_locate_scopes_reads_the_teams_and_goals_dora_dashboard_passes():
    teams, goals = data.locate_scopes(["--db", "x.duckdb", "--teams", dump_scopes(TEAMS, GOALS)])
    assert teams == TEAMS
    assert goals.goal_for("checkout", "lead_time").text == "<= 3 days"
    assert data.locate_scopes(["--db", "x.duckdb"]) == ((), Goals())


def test_without_teams_there_is_no_team_filter(fixture_db, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["app.py"])
    app = open_app(fixture_db, monkeypatch)
    assert not [s for s in app.sidebar.selectbox if s.label == "Team"]


def test_a_team_s_cards_are_its_figures_as_the_cli_gives_them(fixture_db, monkeypatch, with_teams):
    app = open_app(fixture_db, monkeypatch, team="checkout")
    assert app.sidebar.selectbox(key="team").value == "checkout"
    assert app.query_params["team"] == "checkout"
    assert any(m.value.startswith("**Team checkout** · Jun 2026") for m in app.markdown)
    june = team_summary(fixture_db, "checkout").iloc[-1]
    assert june["deployments"] == 1  # pay-5 on 1 June
    assert cards(app) == {m.name: format_value(m, june[m.column]) for m in PERIOD_METRICS}
    assert cards(app)["Change lead time"] == "5.0 days"
    # only the team's services are offered
    assert app.sidebar.multiselect(key="services").options == ["payments"]


def test_no_team_is_the_services_no_team_owns(fixture_db, monkeypatch, with_teams):
    app = open_app(fixture_db, monkeypatch, team="no team")
    assert app.sidebar.selectbox(key="team").value == NO_TEAM
    assert app.sidebar.multiselect(key="services").options == ["search"]
    search = team_summary(fixture_db, NO_TEAM)
    assert search["deployments"].tolist() == [1, 1, 0]  # search: April, May, none in June
    may = search.iloc[1]
    assert cards(app) == {m.name: format_value(m, may[m.column]) for m in PERIOD_METRICS}
    assert any(m.value.startswith("**Services in no team** · May 2026") for m in app.markdown)


def test_the_trend_is_the_team_s_and_draws_its_goal(fixture_db, monkeypatch, with_teams):
    app = open_app(fixture_db, monkeypatch, "views/trends.py", team="checkout", metric="lead_time")
    assert app.segmented_control(key="metric").value == "lead_time"
    trend = pio.from_json(app.get("plotly_chart")[0].proto.spec)
    expected = team_summary(fixture_db, "checkout")["lead_time_median_hours"].tolist()
    assert list(trend.data[0].y) == expected
    lines = [s for s in trend.layout.shapes if s.line.dash == "dot"]
    assert [s.y0 for s in lines] == [72.0]  # checkout's own goal, <= 3 days, in hours
    assert [a.text for a in trend.layout.annotations if a.text.startswith("goal")] == ["goal <= 3 days"]


def goal_badges(app) -> list[tuple[str, str]]:
    """(colour, text) of every goal badge on the page."""
    return [(colour, text) for line in badge_lines(app) for colour, text in verdicts(line) if " goal " in text]


def test_cards_say_whether_the_goal_is_met(fixture_db, monkeypatch, with_teams):
    # June, the organisation: payments' one deployment, lead time 5.0 days, not failed; no recovery
    app = open_app(fixture_db, monkeypatch, baseline="previous")
    assert goal_badges(app) == [(OKABE_ITO["vermillion"], "✗ goal ≤ 1 day: missed"),
                                (OKABE_ITO["blue"], "✓ goal ≤ 5%: met")]
    # team checkout's own lead-time goal replaces the organisation's
    app = open_app(fixture_db, monkeypatch, baseline="previous", team="checkout")
    assert goal_badges(app)[0] == (OKABE_ITO["vermillion"], "✗ goal ≤ 3 days: missed")


def test_a_goal_without_a_value_says_no_data(fixture_db, monkeypatch):
    goals = Goals(organisation=(parse_goal("failed_deployment_recovery_time", "<= 1 h"),))
    monkeypatch.setattr(sys, "argv", ["app.py", "--teams", dump_scopes((), goals)])
    app = open_app(fixture_db, monkeypatch, baseline="previous")  # June: nothing failed, nothing recovered
    assert goal_badges(app) == [(NEUTRAL, "– goal ≤ 1 h: no data")]
    assert not [s for s in app.sidebar.selectbox if s.label == "Team"]  # goals, but no teams


def test_the_list_pages_list_only_the_team_s_records(fixture_db, monkeypatch, with_teams):
    app = open_app(fixture_db, monkeypatch, "views/incidents.py", team="checkout")
    assert [m.value for m in app.metric][:1] == ["1"]  # INC-1 of payments; INC-2 of search is no team's
    app = open_app(fixture_db, monkeypatch, "views/incidents.py", team="no team")
    assert [m.value for m in app.metric][:1] == ["1"]


@pytest.mark.parametrize("page", ["views/lead_time.py", "views/batch_size.py", "views/pipeline.py",
                                  "views/quality.py"])
def test_pages_without_team_figures_show_the_team_s_services(fixture_db, monkeypatch, with_teams, page):
    app = open_app(fixture_db, monkeypatch, page, team="checkout")
    assert not app.exception
    assert app.query_params["team"] == "checkout"


def test_a_team_the_link_names_that_does_not_exist_is_said(fixture_db, monkeypatch, with_teams):
    app = open_app(fixture_db, monkeypatch, team="platform")
    assert app.sidebar.selectbox(key="team").value == "all"
    assert any("`team=platform` is not understood" in w.value for w in app.warning)


def test_trends_metric_and_batch_size_grouping_are_kept_by_id(fixture_db, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["app.py"])
    app = open_app(fixture_db, monkeypatch, "views/trends.py", metric="Change fail rate")  # a label works
    assert app.segmented_control(key="metric").value == "change_failure_rate"
    assert app.query_params["metric"] == "change_failure_rate"
    app = open_app(fixture_db, monkeypatch, "views/batch_size.py", batch="lines")
    assert app.segmented_control(key="batch").value == "lines"
    assert app.query_params["batch"] == "lines"


@pytest.mark.parametrize("page, told", [("views/before_after.py", "this comparison is for"),
                                        ("views/story.py", "this story is told for")])
def test_several_services_picked_are_compared_as_the_team_or_the_organisation(fixture_db, monkeypatch, page, told):
    both = (Team("everyone", ("payments", "search")),)
    monkeypatch.setattr(sys, "argv", ["app.py", "--teams", dump_scopes(both, Goals())])
    app = open_app(fixture_db, monkeypatch, page, services=["payments", "search"])
    assert any(f"Several services are selected: {told} the whole organisation" in c.value for c in app.caption)
    app = open_app(fixture_db, monkeypatch, page, team="everyone", services=["payments", "search"])
    assert any(f"Several services are selected: {told} Team everyone" in c.value for c in app.caption)
