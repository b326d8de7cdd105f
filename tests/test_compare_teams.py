"""Teams in before/after, the phase story and the DORA levels: a team is the facts of its services
together (medians do not add up), its annotations are the organisation's and its services' own, and
its levels follow the services' rules — literal events in, exact rows out."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pandas as pd
import pytest
from click.testing import CliRunner

from core.errors import DoraError
from dora.cli import main
from dora.jobs_context import run_annotation_add
from metrics import compare, story
from metrics.compare import Scope, Window
from metrics.export import Filters, query_table
from metrics.filters import Team
from metrics.levels import query_levels
from tools import cdevents as c

UTC = timezone.utc
BEFORE = Window(date(2026, 1, 1), date(2026, 1, 19))
AFTER = Window(date(2026, 1, 20), date(2026, 2, 9))
SHOP = Scope(("pay", "web"), "shop")


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def ship(service: str, n: int, day: date, lead_hours: int) -> list[dict]:
    """One change of `service` merged and deployed on `day`, `lead_hours` after its first commit."""
    deployed = at(day, 12)
    return [c.merged(id=f"m-{service}-{n}", at=deployed - timedelta(minutes=30), change=f"acme/{service}#{n}",
                     repository=f"acme/{service}", first_commit_at=deployed - timedelta(hours=lead_hours)),
            c.deployed(id=f"d-{service}-{n}", at=deployed, service=service, deployment_id=f"d-{service}-{n}",
                       repository=f"acme/{service}", changes=[f"acme/{service}#{n}"])]


def incident(name: str, day: date, minutes: int, service: str | None) -> list[dict]:
    return [c.incident_detected(id=f"{name}-start", at=at(day, 3), incident=name, service=service),
            c.incident_resolved(id=f"{name}-end", at=at(day, 3) + timedelta(minutes=minutes), incident=name)]


def events() -> list[dict]:
    """Jan 1 - Feb 9: pay ships daily (lead time 2 h before Jan 20, 1 h after), web every other day
    (10 h, then 4 h), search (in no team) daily (1 h); incidents of pay (30 and 20 minutes), and two
    naming no service (60 and 90 minutes): those count for the organisation only."""
    out = []
    for i in range(40):
        day = date(2026, 1, 1) + timedelta(days=i)
        after = day >= AFTER.start
        out += ship("pay", i, day, 1 if after else 2)
        if i % 2 == 0:
            out += ship("web", i, day, 4 if after else 10)
        out += ship("search", i, day, 1)
    out += incident("INC-1", date(2026, 1, 5), 30, "pay") + incident("INC-2", date(2026, 2, 3), 20, "pay")
    out += incident("INC-3", date(2026, 1, 6), 60, None) + incident("INC-4", date(2026, 2, 4), 90, None)
    return out


@pytest.fixture
def shop(wh):
    """The events, with annotations: the organisation's A (Jan 20), pay's own P (Feb 1), search's S
    (Jan 27)."""
    wh.load(events())
    for name, day, service in (("A", date(2026, 1, 20), None), ("P", date(2026, 2, 1), "pay"),
                               ("S", date(2026, 1, 27), "search")):
        run_annotation_add(wh.con, wh.path, wh.settings, name, day, service, None)
    return wh


def by_metric(frame: pd.DataFrame) -> dict:
    return {r["metric"]: r for r in frame.to_dict("records")}


def test_a_team_of_one_service_compares_exactly_as_that_service(shop):
    service = compare.compare_windows(shop.con, BEFORE, AFTER, shop.settings, "pay")
    team = compare.compare_windows(shop.con, BEFORE, AFTER, shop.settings, Scope(("pay",), "pay"))
    assert list(team.columns) == ["service", "team"] + list(service.columns[1:])
    assert set(team["service"]) == {"all"} and set(team["team"]) == {"pay"}
    pd.testing.assert_frame_equal(team.drop(columns=["service", "team"]), service.drop(columns="service"))


def test_a_team_is_its_services_facts_together_and_not_the_incidents_naming_none(shop):
    rows = by_metric(compare.compare_windows(shop.con, BEFORE, AFTER, shop.settings, SHOP))
    # before: 19 days of pay (19) and web (10); after: 21 days of pay (21) and web (10)
    assert (rows["deployment_frequency"]["before_n"], rows["deployment_frequency"]["after_n"]) == (29, 31)
    # lead times over both services' changes: 19 of 2 h and 10 of 10 h, median 2 h (not the mean of medians, 6 h)
    assert rows["lead_time"]["before_value"] == pytest.approx(2.0)
    assert rows["lead_time"]["after_value"] == pytest.approx(1.0)
    # pay's incidents only; the organisation also counts the two naming no service
    assert (rows["incident_recovery_time"]["before_n"], rows["incident_recovery_time"]["after_n"]) == (1, 1)
    everyone = by_metric(compare.compare_windows(shop.con, BEFORE, AFTER, shop.settings))
    assert (everyone["incident_recovery_time"]["before_n"], everyone["incident_recovery_time"]["after_n"]) == (2, 2)
    assert everyone["deployment_frequency"]["before_n"] == 29 + 19


def test_a_team_s_annotations_are_the_organisation_s_and_its_services_own(shop):
    found = compare.query_annotations(shop.con, SHOP, every_service=False)
    assert list(found["name"]) == ["A", "P"]  # not search's S
    window = compare.window_after_annotation(shop.con, "A", shop.settings, SHOP)
    assert (window.start, window.end) == (date(2026, 1, 20), date(2026, 1, 31))  # P ends it, S does not
    with pytest.raises(DoraError, match=r"no annotation 'S' applies to team 'shop' \(known: \d+: A; \d+: P\)"):
        compare.find_annotation(shop.con, "S", SHOP)


def test_a_team_without_data_is_said(shop):
    empty = Scope((), "nobody-ships")
    with pytest.raises(DoraError, match="no data for team 'nobody-ships': none of its services has events"):
        compare.compare_windows(shop.con, BEFORE, AFTER, shop.settings, empty)
    with pytest.raises(DoraError, match="no data for team 'nobody-ships'"):
        story.query_story_long(shop.con, shop.settings, empty)


def test_a_team_of_one_service_tells_that_service_s_story(shop):
    service = story.query_story_long(shop.con, shop.settings, "pay")
    team = story.query_story_long(shop.con, shop.settings, Scope(("pay",), "pay"))
    assert list(team.columns) == ["service", "team"] + story.LONG_COLUMNS[1:]
    assert list(team["window"].unique()) == ["baseline", "A", "P"]
    pd.testing.assert_frame_equal(team.drop(columns=["service", "team"]), service.drop(columns="service"))
    table = story.pivot_story(team)
    assert list(table.columns[:7]) == ["service", "team", "environment", "window", "start", "end", "days"]


def test_the_story_reads_every_window_once_and_tells_what_pairs_of_windows_did(shop):
    """One read of the baseline and every phase gives each phase the verdicts a pair of windows gets."""
    long = story.query_story_long(shop.con, shop.settings, SHOP)
    windows = story.story_windows(shop.con, shop.settings, SHOP)
    for phase in windows.phases:
        pair = compare.compare_windows(shop.con, windows.baseline, phase, shop.settings, SHOP, clip=False,
                                       specs=story.STORY_SPECS)
        told = long[long["window"] == phase.label].reset_index(drop=True)
        assert list(told["verdict"]) == list(pair["verdict"])
        assert told["value"].equals(pair["after_value"])
        assert list(told["explanation"]) == list(pair["explanation"])


TEAMS = (Team("shop", ("pay", "web")),)
ONE = (Team("p", ("pay",)),)


def test_team_levels_of_one_service_equal_the_service_s_levels(shop):
    for grain in ("week", "month"):
        service = query_levels(shop.con, Filters(grain=grain, service="pay"), shop.settings)
        team = query_levels(shop.con, Filters(grain=grain, team="p", teams=ONE), shop.settings)
        assert list(team.columns) == ["period_start", "service", "team"] + list(service.columns[2:])
        assert set(team["service"]) == {"all"} and set(team["team"]) == {"p"}
        exact = [c for c in service.columns if c not in ("service", "value", "score_vs_benchmark", "quickcheck_score")]
        pd.testing.assert_frame_equal(team[exact], service[exact], check_dtype=False)
        for column in ("value", "quickcheck_score"):  # team figures are rounded to 6 places (team_summary), scores x10
            assert team[column].to_numpy() == pytest.approx(service[column].to_numpy(), nan_ok=True, abs=1e-5)


def test_levels_by_team_list_every_team_and_no_team(shop):
    frame = query_levels(shop.con, Filters(grain="month", by_team=True, teams=TEAMS), shop.settings)
    assert list(dict.fromkeys(frame["team"])) == ["shop", "no team"]
    january = frame[(frame["period_start"] == pd.Timestamp("2026-01-01")) & (frame["team"] == "shop")]
    levels = dict(zip(january["metric"], january["level"]))
    # 31 days, 31 + 16 deployments: daily, not twice a day (elite); lead times 2 h, 1 h, 10 h, 4 h: under a day
    assert levels["deployment_frequency"] == "elite" and levels["lead_time"] == "elite"
    with pytest.raises(DoraError, match="no team 'nobody'; teams: shop, no team"):
        query_levels(shop.con, Filters(grain="month", team="nobody", teams=TEAMS), shop.settings)


def test_the_exports_before_after_and_story_by_team(shop):
    split = query_table(shop.con, "before-after", Filters(by_team=True, teams=TEAMS), shop.settings)
    assert list(split.columns[:3]) == ["service", "team", "environment"]
    assert list(split["team"].unique()) == ["shop", "no team"]
    # shop's windows: from A to P (its own pay's annotation); no team's: search's S is the last
    first = split.drop_duplicates("team").set_index("team")
    assert first.loc["shop", "before_label"] == "before A" and first.loc["shop", "after_label"] == "after P"
    assert first.loc["no team", "after_label"] == "after S"
    told = query_table(shop.con, "story", Filters(team="shop", teams=TEAMS), shop.settings)
    assert list(told["window"]) == ["baseline", "A", "P"] and set(told["team"]) == {"shop"}


# --- the CLI -------------------------------------------------------------------------------------

CONFIG = """
[[teams]]
name = "shop"
services = ["pay", "web"]

[[teams]]
name = "ghost"
services = ["nothing-yet"]
"""


@pytest.fixture
def cli(shop, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "dora.toml").write_text(CONFIG)

    def run(*args: str):
        return CliRunner().invoke(main, [*args, "--db", str(shop.path)])

    return run


def test_dora_compare_and_story_for_a_team(cli):
    shown = cli("compare", "--annotation", "A", "--team", "shop")
    assert shown.exit_code == 0, shown.output
    assert shown.output.splitlines()[:3] == [
        "Before/after: team shop, production (days in UTC, both ends included)",
        "  before  2026-01-01..2026-01-19  19 days", "  after   2026-01-20..2026-01-31  12 days"]
    rows = list(csv.DictReader(io.StringIO(cli("compare", "--annotation", "A", "--team", "shop",
                                               "--format", "csv").output)))
    assert list(rows[0])[:9] == ["service", "team", "environment", "metric", "label", "unit", "better",
                                 "before_label", "before_start"]
    assert (rows[0]["service"], rows[0]["team"], rows[0]["before_label"]) == ("all", "shop", "before A")
    told = cli("story", "--team", "shop")
    assert told.exit_code == 0, told.output
    assert told.output.splitlines()[:4] == [
        "Story: team shop, production (days in UTC, both ends included)",
        "  baseline: 2026-01-01..2026-01-19 (19 days)", "  A: 2026-01-20..2026-01-31 (12 days)",
        "  P: 2026-02-01..2026-02-09 (9 days)"]
    nobody = cli("story", "--team", "nobody")
    assert nobody.exit_code == 1 and "no team 'nobody'; teams: shop, ghost, no team" in nobody.output
    ghost = cli("compare", "--annotation", "A", "--team", "ghost")
    assert ghost.exit_code == 1 and "no data for team 'ghost' in production: none of its services has any" in ghost.output
    both = cli("compare", "--annotation", "A", "--team", "shop", "--service", "pay")
    assert both.exit_code == 2 and "--service and --team choose two scopes" in both.output
    rest = cli("story", "--team", "no team")  # search, with its own S
    assert rest.exit_code == 0 and "  S: 2026-01-27..2026-02-09 (14 days)" in rest.output


def test_dora_levels_and_export_by_team(cli):
    shown = cli("levels", "--grain", "month", "--by", "team")
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split()[:2] == ["period", "team"]
    assert [line.split()[1] for line in lines[2:6]] == ["shop", "no", "shop", "no"]
    exported = list(csv.DictReader(io.StringIO(cli("export", "--table", "levels", "--team", "shop").output)))
    assert {(r["service"], r["team"]) for r in exported} == {("all", "shop")}
    before_after = list(csv.DictReader(io.StringIO(cli("export", "--table", "before-after", "--team", "shop").output)))
    assert {r["team"] for r in before_after} == {"shop"} and before_after[0]["after_label"] == "after P"


# --- the dashboard -------------------------------------------------------------------------------

def open_page(shop, monkeypatch, page: str, **query):
    """The dashboard on `page` as `dora dashboard` starts it with the team shop in dora.toml."""
    import sys

    import streamlit as st

    from metrics.goals import Goals, dump_scopes
    from tests.test_dashboard_app import open_app

    st.cache_data.clear()
    monkeypatch.setattr(sys, "argv", ["app.py", "--teams", dump_scopes(TEAMS, Goals())])
    return open_app(shop.path, monkeypatch, page, **query)


def test_before_after_for_a_team_keeps_annotations_by_id_in_the_url(shop, monkeypatch):
    ids = dict(zip(compare.query_annotations(shop.con)["name"], compare.query_annotations(shop.con)["id"]))
    app = open_page(shop, monkeypatch, "views/before_after.py", team="shop", before="A", after="a")  # names work
    assert app.selectbox(key="before").value == str(ids["A"]) and app.selectbox(key="after").value == str(ids["A"])
    assert app.query_params["after"] == str(ids["A"])  # the id, as `dora compare --after-annotation` takes it
    assert app.selectbox(key="before").options == ["A", "P"]  # the team's: not search's S
    expected = compare.compare_windows(shop.con, BEFORE, Window(date(2026, 1, 20), date(2026, 1, 31)),
                                       shop.settings, SHOP)
    table = app.dataframe[0].value
    assert table["n (before → after)"].tolist()[0] == f"{expected['before_n'][0]} → {expected['after_n'][0]}" == "29 → 18"
    assert any("Team shop" in c.value for c in app.caption)
    unknown = open_page(shop, monkeypatch, "views/before_after.py", team="shop", compare="sideways")
    assert any("`compare=sideways` is not understood" in w.value for w in unknown.warning)


def test_the_story_page_tells_a_team_s_story_and_keeps_the_metric_by_id(shop, monkeypatch):
    app = open_page(shop, monkeypatch, "views/story.py", team="shop", story_metric="lead_time")
    assert list(app.dataframe[0].value.columns) == ["metric", "baseline", "A", "P"]
    assert app.selectbox(key="story_metric").value == "lead_time"
    assert app.query_params["story_metric"] == "lead_time"
    labelled = open_page(shop, monkeypatch, "views/story.py", team="shop", story_metric="Change fail rate")
    assert labelled.selectbox(key="story_metric").value == "change_failure_rate"
    wrong = open_page(shop, monkeypatch, "views/story.py", story_metric="speed")
    assert any("`story_metric=speed` is not understood" in w.value for w in wrong.warning)


def test_the_overview_compares_a_team_s_cards_with_its_baseline(shop, monkeypatch):
    app = open_page(shop, monkeypatch, None, team="shop")
    heading = next(m.value for m in app.markdown if m.value.startswith("**Team shop**"))
    assert "and with before A" in heading and "not yet a team" not in heading
    levels = [m.value for m in app.markdown if "DORA level" in m.value]
    assert levels, "the team's own levels"
