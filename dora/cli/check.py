"""`dora check`: the goals of dora.toml against the last complete period, for cron and CI alerting."""
from __future__ import annotations

import click
import pandas as pd

from dora.cli.base import EXIT_GOALS_MISSED, common_options, open_snapshot
from dora.cli.output import format_rows
from dora.config import Config
from metrics.filters import GRAINS, Filters
from metrics.goals import MISSED, evaluate_goals


@click.command()
@click.option("--grain", type=click.Choice(GRAINS), default="week", show_default=True,
              help="Period to check: the last one the data covers whole.")
@click.option("--team", help='Only this team of dora.toml ("no team": services no team owns).')
@click.option("--environment", default="production", show_default=True, help="Environment.")
@common_options
def check(config: Config, quiet: bool, grain: str, team: str | None, environment: str) -> None:
    """Check the goals of dora.toml against the last complete period; exit 4 if any was missed.

    Goals are set in [goals] for everyone and in [teams.goals] per team (docs/cli.md, "Goals").
    With teams configured each team is checked against its goals (and services no team owns, as
    "no team", against [goals]); without, the organisation as a whole. The period is the last one
    whose every day the data covers (default: the last complete week). A goal whose metric has no
    value in the period (no changes shipped, no incident) is "no data": neither met nor missed.

    \b
    Exit codes: 0 every goal met (or no goals configured, or no complete period yet);
    4 some goal missed; 1 the check could not run (no warehouse, bad dora.toml).
    With -q only the missed goals are printed, one line each: for cron or CI alerting.

    \b
    Examples:
      dora check
      dora check --grain month --team checkout
      dora check -q || notify-team   # runs notify-team when a goal was missed
    """
    if not config.goals:
        click.echo("No goals configured: nothing to check. Add goals to dora.toml, e.g.\n"
                   '  [goals]\n  change_failure_rate = "<= 5%"\n  lead_time = "<= 1 day"', err=True)
        return
    con = open_snapshot(config)
    filters = Filters(grain=grain, environment=environment, team=team.strip() if team else None,
                      teams=config.teams)
    frame = evaluate_goals(con, config.goals, filters, config.metrics)
    if frame.empty:
        if not quiet:
            click.echo(f"No complete {grain} in the data yet: nothing to check.")
        return
    missed = frame[frame["status"] == MISSED]
    first = frame.iloc[0]
    when = f"{grain} {first.period_start:%Y-%m-%d}..{first.period_end:%Y-%m-%d}"
    if quiet:
        for r in missed.itertuples():
            click.echo(f"missed: {r.team}: {r.name} {r.value_text}, goal {r.goal} ({when}, {environment})")
    else:
        click.echo(format_check(frame, when, environment))
    if not missed.empty:
        click.get_current_context().exit(EXIT_GOALS_MISSED)


def format_check(frame: pd.DataFrame, when: str, environment: str) -> str:
    """The goals as a table, then one line counting the misses."""
    rows = [[r.team, r.name, r.goal, r.value_text, r.status] for r in frame.itertuples()]
    missed = int((frame["status"] == MISSED).sum())
    verdict = (f"{missed} of {len(frame)} goals missed." if missed
               else f"All {len(frame)} goals met or without data.")
    return "\n".join([f"Goals for the last complete {when}, {environment}:",
                      format_rows(["team", "metric", "goal", "value", "status"], rows, right={3}),
                      "", verdict])
