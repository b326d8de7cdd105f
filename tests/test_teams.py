"""Teams ([[teams]] in dora.toml): a team's figures come from the facts of its services (medians do
not add up), a service no team owns is listed under "no team", and the CLI's --team / --by team —
literal events in, exact rows out."""
from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from dora.cli import main
from dora.config import load_config
from metrics.export import Filters, query_summary
from metrics.filters import Team
from metrics.teams import query_team_figures
from tools import cdevents as c

TEAMS = (Team("checkout", ("payments", "cart")),)


def change(n, merged, service):
    return c.merged(id=f"m-{n}", at=merged, change=f"acme/{service}#{n}", repository=f"acme/{service}")


def deploy(id, at, service, changes=()):
    return c.deployed(id=id, at=at, service=service, changes=[f"acme/{service}#{n}" for n in changes] or None)


# The week of Monday 2026-03-02: payments ships changes with lead times 1 h and 3 h, cart one of
# 10 h and is rolled back after 30 min; search (in no team) ships one of 0.5 h and deploys again on
# Sunday 03-08, so the data covers the whole week.
EVENTS = [
    change(1, "2026-03-02T08:00:00Z", "payments"), deploy("d1", "2026-03-02T09:00:00Z", "payments", [1]),
    change(2, "2026-03-03T06:00:00Z", "payments"), deploy("d2", "2026-03-03T09:00:00Z", "payments", [2]),
    change(3, "2026-03-04T10:00:00Z", "cart"), deploy("d3", "2026-03-04T20:00:00Z", "cart", [3]),
    c.rolledback(id="rb", at="2026-03-04T20:30:00Z", service="cart"),
    change(4, "2026-03-05T11:30:00Z", "search"), deploy("d4", "2026-03-05T12:00:00Z", "search", [4]),
    deploy("d5", "2026-03-08T10:00:00Z", "search"),
]


def rows(frame, *columns):
    """The columns of each row, an undefined value as None."""
    return [tuple(None if v != v else v for v in r) for r in frame[list(columns)].itertuples(index=False)]


def test_a_teams_median_is_over_its_services_facts_not_their_rows(wh):
    wh.load(EVENTS)
    frame = query_summary(wh.con, Filters(grain="week", by_team=True, teams=TEAMS), wh.settings)
    # checkout: the median of 1, 3 and 10 h is 3 h (its services' medians, 2 h and 10 h, would say 6)
    assert rows(frame, "team", "service", "deployments", "lead_time_median_hours", "change_failure_rate",
                "failed_deployment_recovery_median_minutes", "changes_deployed") == [
        ("checkout", "all", 3, 3.0, 0.333333, 30.0, 3),
        ("no team", "all", 2, 0.5, 0.0, None, 1),
    ]
    assert list(frame.columns[:11]) == ["period_start", "service", "deployments", "deploys_per_day", "observed_days",
                                        "lead_time_median_hours", "change_failure_rate", "failed_deployments",
                                        "incident_recovery_median_minutes",
                                        "failed_deployment_recovery_median_minutes", "rework_rate"]


def test_a_service_in_no_team_is_listed_under_no_team_never_dropped(wh):
    wh.load(EVENTS)
    one = query_summary(wh.con, Filters(grain="week", team="no team", teams=TEAMS), wh.settings)
    assert rows(one, "team", "deployments", "lead_time_median_hours") == [("no team", 2, 0.5)]
    # every deployment is in exactly one team's row: 3 + 2 = the organisation's 5
    every = query_summary(wh.con, Filters(grain="week", by_team=True, teams=TEAMS), wh.settings)
    assert every["deployments"].sum() == 5
    # when every service has a team, there is no "no team" row
    owned = TEAMS + (Team("discovery", ("search",)),)
    assert list(query_summary(wh.con, Filters(grain="week", by_team=True, teams=owned), wh.settings)["team"]) \
        == ["checkout", "discovery"]


def test_team_figures_follow_the_same_rules_as_the_stored_metrics(wh):
    """team_summary.sql repeats metric_periods' rules at read time: the organisation, and a team of
    one service, must read exactly as the stored rows."""
    wh.load(EVENTS + [c.incident_detected(id="i1", at="2026-03-06T10:00:00Z", incident="INC-1", service="payments"),
                      c.incident_resolved(id="i2", at="2026-03-06T10:45:00Z", incident="INC-1"),
                      c.incident_detected(id="i3", at="2026-03-06T11:00:00Z", incident="INC-2", service=None)])
    for grain in ("day", "week", "month"):
        stored = query_summary(wh.con, Filters(grain=grain), wh.settings)
        computed = query_team_figures(wh.con, Filters(grain=grain), wh.settings).drop(columns="team")
        assert computed.equals(stored[computed.columns]), grain
        service = query_summary(wh.con, Filters(grain=grain, service="payments"), wh.settings)
        team = query_summary(wh.con, Filters(grain=grain, team="p", teams=(Team("p", ("payments",)),)), wh.settings)
        assert team.drop(columns=["team", "service"]).equals(service.drop(columns="service")[team.columns.drop(
            ["team", "service"])]), grain


def test_one_team_reads_as_its_rows_among_every_teams(wh):
    """Asked for one team, team_summary.sql aggregates only that team's facts: the rows must be that
    team's rows in the listing of every team — for a service in two teams, for the services in no
    team, with an incident that names no service (no team's) and one in no team."""
    wh.load(EVENTS + [c.incident_detected(id="i1", at="2026-03-06T10:00:00Z", incident="INC-1", service="payments"),
                      c.incident_resolved(id="i2", at="2026-03-06T10:45:00Z", incident="INC-1"),
                      c.incident_detected(id="i3", at="2026-03-06T11:00:00Z", incident="INC-2", service=None),
                      c.incident_detected(id="i4", at="2026-03-07T11:00:00Z", incident="INC-3", service="search")])
    teams = TEAMS + (Team("money", ("payments",)),)  # payments is in checkout and in money
    for grain in ("day", "week", "month"):
        every = query_team_figures(wh.con, Filters(grain=grain, by_team=True, teams=teams), wh.settings)
        for name in ("checkout", "money", "no team"):
            one = query_team_figures(wh.con, Filters(grain=grain, team=name, teams=teams), wh.settings)
            assert one.equals(every[every["team"] == name].reset_index(drop=True)), (grain, name)
    money = query_team_figures(wh.con, Filters(grain="week", team="money", teams=teams), wh.settings)
    assert rows(money, "team", "deployments", "lead_time_median_hours", "incidents", "incident_recovery_median_minutes") \
        == [("money", 2, 2.0, 1, 45.0)]
    nobody = query_team_figures(wh.con, Filters(grain="week", team="no team", teams=teams), wh.settings)
    assert rows(nobody, "team", "deployments", "incidents") == [("no team", 2, 1)]


def test_an_unknown_team_and_no_teams_are_named(wh):
    wh.load(EVENTS)
    with pytest.raises(Exception, match="no team 'nobody'; teams: checkout, no team"):
        query_summary(wh.con, Filters(team="nobody", teams=TEAMS), wh.settings)
    with pytest.raises(Exception, match=r"no teams are configured: add \[\[teams\]\]"):
        query_summary(wh.con, Filters(by_team=True), wh.settings)


# --- the CLI -------------------------------------------------------------------------------------

CONFIG = """
[[github.repositories]]
name = "acme/cart-service"
service = "cart"

[[teams]]
name = "checkout"
services = ["payments"]
repositories = ["acme/cart-service"]
"""


@pytest.fixture
def cli(wh, tmp_path, monkeypatch):
    """A CliRunner in tmp_path with the events loaded (the snapshot published) and dora.toml written."""
    wh.load(EVENTS)
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "dora.toml").write_text(CONFIG)
    return CliRunner()


def test_a_teams_repositories_map_to_their_services(cli):
    # acme/cart-service deploys as cart ([github]); no dora.toml at all: no teams
    assert load_config(None, env={}).teams == (Team("checkout", ("payments", "cart")),)
    assert load_config(None, env={"DORA_CONFIG": "/dev/null"}).teams == ()


def test_export_by_team_writes_one_row_per_team_and_period(cli, wh):
    result = cli.invoke(main, ["export", "--db", str(wh.path), "--grain", "week", "--by", "team"])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.output)))
    assert [(r["period_start"], r["service"], r["team"], r["deployments"], r["lead_time_median_hours"])
            for r in table] == [("2026-03-02", "all", "checkout", "3", "3.0"), ("2026-03-02", "all", "no team", "2", "0.5")]
    assert all(r["definitions_version"] == "2" for r in table)


def test_metrics_for_one_team_and_its_services(cli, wh):
    one = cli.invoke(main, ["metrics", "--db", str(wh.path), "--grain", "week", "--team", "checkout"])
    assert one.exit_code == 0, one.output
    assert one.output.splitlines()[0].split()[:3] == ["period", "team", "deploys"]
    assert one.output.splitlines()[2].split()[:3] == ["2026-03-02", "checkout", "3"]
    each = cli.invoke(main, ["metrics", "--db", str(wh.path), "--grain", "week", "--team", "checkout",
                             "--by", "service"])
    assert [line.split()[1] for line in each.output.splitlines()[2:]] == ["cart", "payments"]


def test_team_usage_mistakes_are_refused_with_the_reason(cli, wh):
    both = cli.invoke(main, ["export", "--db", str(wh.path), "--service", "cart", "--team", "checkout"])
    assert both.exit_code == 2 and "--service and --team" in both.output
    breakdown = cli.invoke(main, ["export", "--table", "lead-time-breakdown", "--db", str(wh.path), "--team", "checkout"])
    assert breakdown.exit_code == 1 and "no team figures" in breakdown.output
    levels = cli.invoke(main, ["levels", "--db", str(wh.path), "--team", "checkout"])  # the team's own figures
    assert levels.exit_code == 0 and levels.output.split()[:2] == ["period", "team"]
    unknown = cli.invoke(main, ["metrics", "--db", str(wh.path), "--team", "nobody"])
    assert unknown.exit_code == 1 and "no team 'nobody'; teams: checkout, no team" in unknown.output


def test_a_repository_not_under_github_is_named_with_its_line(tmp_path):
    path = tmp_path / "dora.toml"
    path.write_text('[[teams]]\nname = "checkout"\nrepositories = ["acme/web"]\n\n[[teams]]\nname = "empty"\n')
    with pytest.raises(Exception) as error:
        load_config(path, env={})
    assert str(error.value).splitlines() == [
        f"{path}:3: teams[checkout].repositories names 'acme/web', which is not under [[github.repositories]]: "
        "list it there, or name the team's services instead",
        f'{path}:5: teams[empty] owns no services: give services = ["…"] or repositories = ["owner/name"]',
    ]
