"""Goals: per-metric targets ("change fail rate <= 5%"), for the organisation or per team, and
whether a period met them (`dora check`, the dashboard's cards and target lines).

A goal is written as an operator, a number and a unit: `<= 5%`, `<= 1 day`, `<= 15 min`,
`>= 1 per day`, `>= 4` (a survey score). It is kept in the metric's own unit (shares 0..1, hours,
minutes, deploys per day). A goal points the way the metric improves: lower-is-better metrics take
`<=` or `<`, higher-is-better ones `>=` or `>`. Metrics are named by their registry id, plus
`ci_minutes` (a pipeline run's CI time, median). docs/metrics.md, "Teams and goals".
"""
from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb

from core.errors import DoraError
from core.sql import run_sql
from metrics.build import MetricSettings
from metrics.filters import NO_TEAM, Filters, Team, check_grain, period_days
from metrics.registry import METRICS

# pandas and metrics.teams are imported by the functions that evaluate goals: dora.toml's schema
# imports this module to parse them, and every command (a quiet `dora nightly` from cron among them)
# should not pay pandas' import for that.

__all__ = ["GOAL_METRICS", "Goal", "GoalMetric", "Goals", "MET", "MISSED", "NO_DATA", "evaluate_goals",
           "dump_scopes", "format_amount", "last_complete_period", "load_scopes", "parse_goal", "scope_filters"]

MET, MISSED, NO_DATA = "met", "missed", "no data"


@dataclass(frozen=True)
class GoalMetric:
    """A metric a goal may name: its id, how people call it, its unit and the summary column holding it."""

    id: str
    name: str
    unit: str      # "share", "hours", "minutes", "deploys/day", "score"
    better: str    # "lower" or "higher"
    column: str


# Every registry metric, and the pipeline's CI time (metrics/sql/goal_ci_minutes.sql).
GOAL_METRICS: dict[str, GoalMetric] = {
    **{m.id: GoalMetric(m.id, m.name, m.unit, m.better, m.column) for m in METRICS},
    "ci_minutes": GoalMetric("ci_minutes", "CI time", "minutes", "lower", "ci_minutes_median"),
}

# Units a goal may be written in, as minutes (durations) or as a count per day (rates).
DURATION_UNITS = {**dict.fromkeys(("min", "mins", "minute", "minutes"), 1.0),
                  **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 60.0),
                  **dict.fromkeys(("d", "day", "days"), 1440.0),
                  **dict.fromkeys(("week", "weeks"), 10080.0)}
RATE_UNITS = {**dict.fromkeys(("per day", "/day", "a day", "per days"), 1.0),
              **dict.fromkeys(("per week", "/week", "a week"), 1 / 7)}
EXAMPLES = {"share": '"<= 5%"', "hours": '"<= 1 day"', "minutes": '"<= 15 min"',
            "deploys/day": '">= 1 per day"', "score": '">= 4"'}
WHAT = {"share": "a percentage", "hours": "a duration (min, h, day, week)",
        "minutes": "a duration (min, h, day, week)", "deploys/day": "a rate (per day, per week)",
        "score": "a plain number (the survey's scale)"}
OPERATORS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}
_GOAL = re.compile(r"^\s*(<=|>=|<|>|≤|≥)\s*([0-9]+(?:\.[0-9]+)?)\s*(.*?)\s*$")


@dataclass(frozen=True)
class Goal:
    """One target: `value <operator> target`, the target in the metric's unit; `text` as written."""

    metric: str
    operator: str
    target: float
    text: str

    def judge(self, value) -> str:
        """MET or MISSED for a value, NO_DATA when the value is undefined (nothing to judge)."""
        if value is None or value != value:
            return NO_DATA
        return MET if OPERATORS[self.operator](value, self.target) else MISSED


def parse_goal(metric_id: str, text: str) -> Goal:
    """`text` ("<= 1 day") as the goal of `metric_id`; a ValueError saying what a valid one is."""
    metric = GOAL_METRICS.get(metric_id)
    if metric is None:
        raise ValueError(f"is not a metric; goals name one of {', '.join(GOAL_METRICS)}")
    example = EXAMPLES[metric.unit]
    found = _GOAL.match(text)
    if not found:
        raise ValueError(f"must be an operator (<=, <, >=, >) and {WHAT[metric.unit]}, e.g. {example} "
                         f"(got {text!r})")
    op, number, unit = found.group(1).replace("≤", "<=").replace("≥", ">="), float(found.group(2)), found.group(3)
    unit = re.sub(r"\s+", " ", unit.lower())
    if metric.unit == "share":
        if unit != "%" or number > 100:
            raise ValueError(f"must be a percentage from 0% to 100%, e.g. {example} (got {text!r})")
        target = number / 100
    elif metric.unit in ("hours", "minutes"):
        if unit not in DURATION_UNITS:
            raise ValueError(f"must be a duration with its unit (min, h, day, week), e.g. {example} (got {text!r})")
        target = number * DURATION_UNITS[unit] / (60.0 if metric.unit == "hours" else 1.0)
    elif metric.unit == "deploys/day":
        if unit not in RATE_UNITS:
            raise ValueError(f"must be a rate per day or per week, e.g. {example} (got {text!r})")
        target = number * RATE_UNITS[unit]
    else:
        if unit:
            raise ValueError(f"must be a plain number on the survey's scale, e.g. {example} (got {text!r})")
        target = number
    wanted = ("<=", "<") if metric.better == "lower" else (">=", ">")
    if op not in wanted:
        raise ValueError(f"must be {'an upper' if metric.better == 'lower' else 'a lower'} bound: "
                         f"{metric.better} is better for {metric.name.lower()}, e.g. {example} (got {text!r})")
    return Goal(metric_id, op, target, f"{op} {found.group(2)}{'' if unit in ('', '%') else ' '}{unit}".strip())


@dataclass(frozen=True)
class Goals:
    """The goals of dora.toml: [goals] for the organisation and every team, [teams.goals] per team
    (a team's goal for a metric replaces the organisation's for that metric)."""

    organisation: tuple[Goal, ...] = ()
    teams: dict[str, tuple[Goal, ...]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.organisation) or any(self.teams.values())

    def for_scope(self, team: str | None) -> tuple[Goal, ...]:
        """The goals in force for a team (None or 'all': the organisation), in GOAL_METRICS order."""
        merged = {g.metric: g for g in self.organisation}
        merged.update({g.metric: g for g in self.teams.get(team or "", ())})
        return tuple(merged[m] for m in GOAL_METRICS if m in merged)

    def goal_for(self, team: str | None, metric_id: str) -> Goal | None:
        """The goal of one metric for a team (None: the organisation's), if any."""
        return next((g for g in self.for_scope(team) if g.metric == metric_id), None)


def format_amount(value, unit: str) -> str:
    """A metric's value in human units: 8.3%, 45 min, 1.5 days, 0.71 per day."""
    if value is None or value != value:
        return "–"
    if unit == "share":
        return f"{value:.1%}"
    if unit in ("hours", "minutes"):
        minutes = value * 60 if unit == "hours" else value
        if minutes < 120:
            return f"{minutes:.0f} min" if minutes >= 10 else f"{minutes:.1f} min"
        if minutes < 2880:
            return f"{minutes / 60:.1f} h"
        return f"{minutes / 1440:.1f} days"
    if unit == "deploys/day":
        return f"{value:.2f} per day"
    return f"{value:.2f}"


def last_complete_period(frame: pd.DataFrame, grain: str) -> date | None:
    """The start of the latest period the data covers whole (all its days observed), if any."""
    import pandas as pd

    if frame.empty:
        return None
    starts = pd.to_datetime(frame["period_start"]).dt.date
    whole = frame["observed_days"] == [period_days(s, grain) for s in starts]
    return max(starts[whole], default=None)


def evaluate_goals(con: duckdb.DuckDBPyConnection, goals: Goals, filters: Filters, settings: MetricSettings,
                   period_start: date | None = None) -> pd.DataFrame:
    """Each goal in force against one period (default: the last complete one): one row per scope
    (each team and 'no team' when teams are configured, else the organisation 'all') and goal, with
    the value and MET, MISSED or NO_DATA. Empty when there are no goals or no complete period."""
    import pandas as pd

    from metrics.teams import query_team_figures

    check_grain(filters.grain)
    filters = scope_filters(filters)
    figures = query_team_figures(con, filters, settings)
    period_start = period_start or last_complete_period(figures, filters.grain)
    columns = ["period_start", "period_end", "grain", "team", "metric", "name", "goal", "target", "value",
               "value_text", "status"]
    if not goals or period_start is None:
        return pd.DataFrame(columns=columns)
    rows = figures[pd.to_datetime(figures["period_start"]).dt.date == period_start]
    end = period_start + timedelta(days=period_days(period_start, filters.grain) - 1)
    extra = _extra_values(con, filters, settings, period_start)
    out = []
    for row in rows.to_dict("records"):
        scope = row["team"]
        for goal in goals.for_scope(None if scope in ("all", NO_TEAM) else scope):
            metric = GOAL_METRICS[goal.metric]
            value = row.get(metric.column, extra.get((scope, metric.column)))
            value = None if value is None or value != value else float(value)
            out.append([period_start, end, filters.grain, scope, goal.metric, metric.name, goal.text, goal.target,
                        value, format_amount(value, metric.unit), goal.judge(value)])
    return pd.DataFrame(out, columns=columns)


def _extra_values(con: duckdb.DuckDBPyConnection, filters: Filters, settings: MetricSettings,
                  period_start: date) -> dict[tuple[str, str], float]:
    """The goal values the summary does not hold, by (scope, column): CI time and the survey's mean
    (survey answers carry their team: matched by the team's name)."""
    import pandas as pd

    from metrics.teams import team_mapping

    mapping = team_mapping(filters.teams) if filters.teams else None
    values = {}
    ci = run_sql(con, "metrics", "goal_ci_minutes", {"grain": filters.grain, "timezone": settings.timezone,
                                                     "mapping": mapping}).df()
    for r in ci[pd.to_datetime(ci["period_start"]).dt.date == period_start].itertuples():
        values[(r.team, "ci_minutes_median")] = r.ci_minutes_median
    survey = run_sql(con, "metrics", "export_survey", {
        "grain": filters.grain, "from_date": period_start, "to_date": period_start,
        "teams": [t.name for t in filters.teams] if filters.teams else None}).df()
    for r in survey.itertuples():
        values[(r.team, "satisfaction_mean")] = r.satisfaction_mean
    return values


def scope_filters(filters: Filters) -> Filters:
    """The filters for goals: per team when teams are configured (unless one is asked for)."""
    return replace(filters, by_team=bool(filters.teams) and not filters.team, service=None, by_service=False)


def dump_scopes(teams: tuple[Team, ...], goals: Goals) -> str:
    """The teams and goals as one line of JSON, for a process that reads no dora.toml (`dora
    dashboard` passes it to the dashboard as `--teams`)."""
    return json.dumps({
        "teams": [{"name": t.name, "services": list(t.services)} for t in teams],
        "goals": {g.metric: g.text for g in goals.organisation},
        "team_goals": {team: {g.metric: g.text for g in own} for team, own in goals.teams.items()},
    }, ensure_ascii=False)


def load_scopes(text: str | None) -> tuple[tuple[Team, ...], Goals]:
    """dump_scopes' JSON back as teams and goals (none for None or an empty text)."""
    if not text:
        return (), Goals()
    data = json.loads(text)
    teams = tuple(Team(t["name"], tuple(t["services"])) for t in data.get("teams", ()))
    goals = Goals(organisation=tuple(parse_goal(m, v) for m, v in data.get("goals", {}).items()),
                  teams={team: tuple(parse_goal(m, v) for m, v in own.items())
                         for team, own in data.get("team_goals", {}).items()})
    return teams, goals
