"""Goals ([goals] and [teams.goals] in dora.toml): parsing with units, mistakes named with their key
and line, and `dora check` on literal data — its output and exit codes."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from dora.cli import main
from dora.config import load_config
from metrics.goals import MET, MISSED, NO_DATA, Goal, Goals, format_amount, parse_goal
from tests.test_teams import EVENTS


@pytest.mark.parametrize("metric, text, operator, target", [
    ("change_failure_rate", "<= 5%", "<=", 0.05),
    ("change_failure_rate", "<5 %", "<", 0.05),
    ("lead_time", "<= 1 day", "<=", 24.0),            # lead time is in hours
    ("lead_time", "≤ 90 min", "<=", 1.5),
    ("lead_time", "<= 2 days", "<=", 48.0),
    ("failed_deployment_recovery_time", "<= 1 h", "<=", 60.0),   # recovery is in minutes
    ("incident_recovery_time", "< 0.5 hours", "<", 30.0),
    ("ci_minutes", "<= 15 min", "<=", 15.0),
    ("deployment_frequency", ">= 1 per day", ">=", 1.0),
    ("deployment_frequency", ">= 14 per week", ">=", 2.0),
    ("deployment_rework_rate", "<= 2.5%", "<=", 0.025),
    ("developer_satisfaction", ">= 4", ">=", 4.0),
])
def test_goals_parse_with_their_units_into_the_metrics_unit(metric, text, operator, target):
    goal = parse_goal(metric, text)
    assert (goal.metric, goal.operator, goal.target) == (metric, operator, pytest.approx(target))


@pytest.mark.parametrize("metric, text, message", [
    ("change_failure_rate", "5%", 'must be an operator (<=, <, >=, >) and a percentage, e.g. "<= 5%" (got \'5%\')'),
    ("change_failure_rate", "<= 0.05", 'must be a percentage from 0% to 100%, e.g. "<= 5%" (got \'<= 0.05\')'),
    ("change_failure_rate", "<= 150%", "must be a percentage from 0% to 100%"),
    ("lead_time", "<= 5%", 'must be a duration with its unit (min, h, day, week), e.g. "<= 1 day" (got \'<= 5%\')'),
    ("lead_time", "<= 3 fortnights", "must be a duration with its unit"),
    ("lead_time", ">= 1 day", 'must be an upper bound: lower is better for change lead time, e.g. "<= 1 day"'),
    ("deployment_frequency", "<= 1 per day", "must be a lower bound: higher is better for deployment frequency"),
    ("deployment_frequency", ">= 3 per month", 'must be a rate per day or per week, e.g. ">= 1 per day"'),
    ("developer_satisfaction", ">= 4 stars", "must be a plain number on the survey's scale"),
])
def test_bad_goals_say_what_a_good_one_is(metric, text, message):
    with pytest.raises(ValueError) as error:
        parse_goal(metric, text)
    assert message in str(error.value)


def test_a_goal_judges_a_value_and_says_when_there_is_none():
    goal = Goal("lead_time", "<=", 24.0, "<= 1 day")
    assert [goal.judge(v) for v in (24.0, 24.5, None, float("nan"))] == [MET, MISSED, NO_DATA, NO_DATA]
    assert [format_amount(v, u) for v, u in ((0.0833, "share"), (0.5, "hours"), (30.0, "hours"), (2880.0, "minutes"),
                                              (0.714, "deploys/day"))] == \
        ["8.3%", "30 min", "30.0 h", "2.0 days", "0.71 per day"]


def test_a_teams_goal_replaces_the_organisations_for_that_metric():
    goals = Goals(organisation=(parse_goal("lead_time", "<= 1 day"), parse_goal("change_failure_rate", "<= 5%")),
                  teams={"checkout": (parse_goal("lead_time", "<= 4 h"),)})
    assert [g.text for g in goals.for_scope("checkout")] == ["<= 4 h", "<= 5%"]
    assert [g.text for g in goals.for_scope(None)] == ["<= 1 day", "<= 5%"]
    assert goals.goal_for("search", "lead_time").target == 24.0
    assert not Goals() and goals


def test_goal_mistakes_in_dora_toml_name_the_key_and_its_line(tmp_path):
    path = tmp_path / "dora.toml"
    path.write_text('[goals]\nchange_failure_rate = "<= 5"\nspeed = "<= 1 day"\n\n'
                    '[[teams]]\nname = "checkout"\nservices = ["payments"]\n\n[teams.goals]\nlead_time = 24\n'
                    'incident_recovery_time = ">= 1 h"\n')
    with pytest.raises(Exception) as error:
        load_config(path, env={})
    assert str(error.value).splitlines() == [
        f"{path}:2: goals.change_failure_rate must be a percentage from 0% to 100%, e.g. \"<= 5%\" (got '<= 5')",
        f"{path}:3: unknown key goals.speed (known: change_failure_rate, ci_minutes, deployment_frequency, "
        "deployment_rework_rate, developer_satisfaction, failed_deployment_recovery_time, incident_recovery_time, "
        "lead_time)",
        f'{path}:10: teams[checkout].goals.lead_time must be a goal such as "<= 1 day" (got 24)',
        f"{path}:11: teams[checkout].goals.incident_recovery_time must be an upper bound: lower is better for "
        "incident recovery (mttr), e.g. \"<= 15 min\" (got '>= 1 h')",
    ]


# --- dora check ----------------------------------------------------------------------------------

@pytest.fixture
def check(wh, tmp_path, monkeypatch):
    """`dora check` on the teams test's week (2026-03-02..08, covered whole) with a dora.toml."""
    wh.load(EVENTS)
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG"):
        monkeypatch.delenv(var, raising=False)

    def run(config: str, *args: str):
        (tmp_path / "dora.toml").write_text(config)
        return CliRunner().invoke(main, ["check", "--db", str(wh.path), *args])

    return run


GOALS = '[goals]\nchange_failure_rate = "<= 10%"\nlead_time = "<= 2 h"\n'
TEAMS = '[[teams]]\nname = "checkout"\nservices = ["payments", "cart"]\n[teams.goals]\nlead_time = "<= 4 h"\n'


def test_check_judges_each_team_and_exits_4_when_a_goal_was_missed(check):
    result = check(GOALS + TEAMS)
    assert result.exit_code == 4, result.output
    assert result.output.splitlines() == [
        "Goals for the last complete week 2026-03-02..2026-03-08, production:",
        "team      metric            goal     value  status",
        "--------  ----------------  ------  ------  ------",
        "checkout  Change lead time  <= 4 h   3.0 h  met",
        "checkout  Change fail rate  <= 10%   33.3%  missed",
        "no team   Change lead time  <= 2 h  30 min  met",
        "no team   Change fail rate  <= 10%    0.0%  met",
        "",
        "1 of 4 goals missed.",
    ]


def test_check_quiet_prints_only_the_misses_one_line_each(check):
    result = check(GOALS + TEAMS, "-q")
    assert result.exit_code == 4
    assert result.output == ("missed: checkout: Change fail rate 33.3%, goal <= 10% "
                             "(week 2026-03-02..2026-03-08, production)\n")


def test_check_without_teams_judges_the_organisation_and_exits_0_when_all_met(check):
    # the organisation: 1 of 5 deployments failed (20%), lead times 0.5, 1, 3, 10 h (median 2 h)
    met = check('[goals]\nchange_failure_rate = "<= 20%"\nlead_time = "<= 2 h"\nincident_recovery_time = "<= 1 h"\n')
    assert met.exit_code == 0, met.output
    assert met.output.splitlines()[3:] == [
        "all   Change lead time          <= 2 h  2.0 h  met",
        "all   Change fail rate          <= 20%  20.0%  met",
        "all   Incident recovery (MTTR)  <= 1 h      –  no data",
        "",
        "All 3 goals met or without data.",
    ]
    assert check(GOALS, "-q").exit_code == 4


def test_check_says_when_there_is_nothing_to_check(check):
    none = check("")
    assert none.exit_code == 0 and "No goals configured: nothing to check." in none.output
    month = check(GOALS, "--grain", "month")  # March is covered only from the 2nd to the 8th
    assert month.exit_code == 0 and month.output == "No complete month in the data yet: nothing to check.\n"
    unknown = check(GOALS + TEAMS, "--team", "nobody")
    assert unknown.exit_code == 1 and "no team 'nobody'; teams: checkout, no team" in unknown.output


def test_the_dashboard_gets_the_teams_and_goals_on_its_command_line(tmp_path):
    from dora.cli.dashboard import build_streamlit_command
    from metrics.filters import Team
    from metrics.goals import dump_scopes, load_scopes

    path = tmp_path / "dora.toml"
    path.write_text(GOALS + TEAMS)
    config = load_config(path, env={})
    scopes = dump_scopes(config.teams, config.goals)
    assert load_scopes(scopes) == ((Team("checkout", ("payments", "cart")),), config.goals)
    assert load_scopes(None) == ((), Goals())
    command = build_streamlit_command(tmp_path / "w.duckdb", port=8501, host="127.0.0.1", open_browser=False,
                                      scopes=scopes)
    assert command[-4:] == ["--db", str(tmp_path / "w.duckdb"), "--teams", scopes]


def test_a_goal_is_a_dotted_target_line_in_the_charts_unit():
    import pandas as pd

    from dashboard import charts
    from metrics.registry import get_metric

    lead_time, fail_rate = get_metric("lead_time"), get_metric("change_failure_rate")
    frame = pd.DataFrame({"period_start": pd.to_datetime(["2026-01-01", "2026-02-01"]), "service": ["a", "b"],
                          "lead_time_median_hours": [30.0, 10.0], "changes_deployed": [3, 4],
                          "change_failure_rate": [0.1, 0.2], "deployments": [3, 4]})
    goal = parse_goal("lead_time", "<= 1 day")
    fig = charts.goal_line(charts.trend_figure(frame, lead_time, "month"), lead_time, goal.target, goal.text)
    assert [(s.y0, s.line.dash) for s in fig.layout.shapes] == [(24.0, "dot")]  # hours, as the line is plotted
    assert [a.text for a in fig.layout.annotations] == ["goal <= 1 day"]
    # rates are plotted in %; small multiples get the line on every panel
    multiples = charts.small_multiples_figure(frame, fail_rate, "month", ["a", "b"])
    charts.goal_line(multiples, fail_rate, 0.05, "<= 5%")
    assert [(s.y0, s.yref) for s in multiples.layout.shapes] == [(5.0, "y"), (5.0, "y2")]
