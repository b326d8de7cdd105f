"""How the dashboard presents what it shows: colours, units on axes, values for people, finding titles.

A metric's id, label, name, unit, direction and definition come from the one registry
(metrics/registry.py); this module adds only how they look, keyed by the registry's ids, so a metric
has the same name, unit and colour on every card, axis and table. Colours are the Okabe–Ito palette
(Okabe & Ito, "Color Universal Design", 2008), which stays distinguishable with the common forms of
colour blindness.
"""
from __future__ import annotations

import math

from metrics.registry import Metric

# Okabe–Ito: https://jfly.uni-koeln.de/color/ (yellow is left out: too faint on white).
OKABE_ITO = {
    "blue": "#0072B2",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "black": "#000000",
}
NEUTRAL = "#8C8C8C"  # context (all other deployments, bars that carry no metric of their own)
ANNOTATION = "#404040"

# Each metric's one colour on every card, sparkline, chart and distribution, by registry id.
COLOURS = {
    "deployment_frequency": OKABE_ITO["blue"],
    "lead_time": OKABE_ITO["green"],
    "change_failure_rate": OKABE_ITO["vermillion"],
    "failed_deployment_recovery_time": OKABE_ITO["purple"],
    "deployment_rework_rate": OKABE_ITO["orange"],
    "incident_recovery_time": OKABE_ITO["black"],
    "developer_satisfaction": OKABE_ITO["sky"],
}
# A change's badge takes the colour of what the change means, never the metric's own colour: blue
# when it went the metric's good way (registry `better`), vermillion when it went the bad way, grey
# when there is nothing to judge. Blue against vermillion is the Okabe–Ito pair that stays apart in
# every common colour-vision deficiency; the arrow and the word say it again without colour.
VERDICT_COLOURS = {"better": OKABE_ITO["blue"], "worse": OKABE_ITO["vermillion"]}
# A badge colour per level; the level is always written out too, so colour is never the only cue.
LEVEL_BADGES = {"elite": "blue", "high": "green", "medium": "orange", "low": "red"}

GRAIN_LABELS = {"day": "Day", "week": "Week", "month": "Month", "quarter": "Quarter"}
GRAIN_AXIS = {"day": "day", "week": "week (starting Monday)", "month": "month", "quarter": "quarter"}


def is_missing(value) -> bool:
    """True for None and NaN (an undefined metric: no deployments, no changes, no incidents)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_duration_minutes(minutes: float) -> str:
    """A duration for people: '45 s', '38 min', '5.2 h', '4.9 days'."""
    if is_missing(minutes):
        return "–"
    if abs(minutes) < 1:
        return f"{minutes * 60:.0f} s"
    if abs(minutes) < 90:
        return f"{minutes:.1f} min" if abs(minutes) < 10 else f"{minutes:.0f} min"
    hours = minutes / 60
    if abs(hours) < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"


def axis_unit(metric: Metric) -> str:
    """The unit an axis names: rates are plotted as percentages."""
    return "%" if metric.unit == "share" else metric.unit


def axis_title(metric: Metric) -> str:
    """The y-axis title, with its unit."""
    return f"{metric.name} ({axis_unit(metric)})"


def format_value(metric: Metric, value) -> str:
    """A metric's value with its unit, as a card or a table shows it."""
    if is_missing(value):
        return "–"
    if metric.unit == "share":
        return f"{value:.1%}"
    if metric.unit == "hours":
        return format_duration_minutes(value * 60)
    if metric.unit == "minutes":
        return format_duration_minutes(value)
    if metric.unit == "deploys/day":
        if value >= 1 or value == 0:
            return f"{value:.1f} per day"
        return f"{value * 7:.1f} per week"
    return f"{value:g} {metric.unit}"


def plot_value(metric: Metric, value):
    """The value on the chart's axis: rates as percentages, the rest as stored."""
    if is_missing(value):
        return None
    return value * 100 if metric.unit == "share" else value


def format_change(metric: Metric, current, previous) -> str | None:
    """The change against the previous period, as st.metric's delta: '+2.1 pp', '−35%'."""
    if is_missing(current) or is_missing(previous):
        return None
    if metric.unit == "share":
        points = (current - previous) * 100
        return "±0.0 pp" if abs(points) < 0.05 else f"{points:+.1f} pp"
    if previous == 0:
        return None
    return f"{(current - previous) / previous:+.0%}"


def change_arrow(current, previous) -> str:
    """Which way the value moved: ↑, ↓ or → (unchanged), whatever that means for the metric."""
    if is_missing(current) or is_missing(previous) or current == previous:
        return "→"
    return "↑" if current > previous else "↓"


def change_badge(text: str, verdict: str | None) -> str:
    """A change as an HTML badge coloured by its verdict (VERDICT_COLOURS; grey without one).

    `text` is built from numbers and fixed words only (never from the data's text), so it is safe
    to show as HTML."""
    colour = VERDICT_COLOURS.get(verdict or "", NEUTRAL)
    return (f'<span class="dora-badge" style="color:{colour};background:{colour}1a;border:1px solid {colour}66;'
            f'border-radius:0.5rem;padding:0 0.4rem;white-space:nowrap">{text}</span>')


# When a card says "too early to tell" instead of judging a change against the previous period: a
# period with less than half its calendar days inside the data (the current one, or the first one
# partly covered), or fewer than MIN_RECORDS records behind either value (deployments, changes
# deployed, recoveries). Few records swing a median or a rate by chance. docs/dashboard.md.
MIN_OBSERVED_SHARE = 0.5
MIN_RECORDS = 5


def judge_period_change(metric: Metric, current, previous, *, enough: bool) -> str | None:
    """The verdict a card shows against the previous period: judge_change's word, 'too early to
    tell' when either period is too thin to judge (`enough` is False), None without two values."""
    if is_missing(current) or is_missing(previous):
        return None
    return judge_change(metric, current, previous) if enough else "too early to tell"


def judge_change(metric: Metric, current, previous) -> str | None:
    """'better', 'worse' or 'unchanged' — said in words, so the judgement never rests on colour alone."""
    if is_missing(current) or is_missing(previous):
        return None
    if current == previous or (metric.unit == "share" and abs(current - previous) < 0.0005):
        return "unchanged"
    improved = current > previous if metric.better == "higher" else current < previous
    return "better" if improved else "worse"


# dq_findings.finding codes (metrics/sql/dq_findings.sql) as a lead reads them; what each means for
# the figures is metrics.quality.FINDINGS, shown beside the title.
FINDING_TITLES = {
    "change_not_deployed": "Changes never deployed",
    "change_unknown": "Deployed changes never reported as merged",
    "incident_unresolved": "Incidents never resolved",
    "incident_never_started": "Resolutions without a start",
    "incident_link_unmatched": "Incidents naming an unknown cause",
    "rollback_target_unmatched": "Rollbacks of unknown deployments",
    "negative_lead_time": "Negative lead times",
    "negative_recovery": "Negative recovery times",
    "negative_failed_deployment_recovery": "Failed deployments recovered before exposure",
    "first_commit_after_merge": "Changes first committed after their merge",
    "deployment_without_changes": "Deployments without changes",
    "incident_without_service": "Incidents naming no service",
    "span_missing": "Changes missing a timestamp",
    "negative_span": "Negative lead-time stages",
    "pipeline_unfinished": "Pipeline runs never finished",
    "negative_duration": "Negative pipeline durations",
    "event_rejected": "Events rejected at load",
}


def finding_title(code: str) -> str:
    """A finding's title; a code added to dq_findings later shows in words until it is named here."""
    return FINDING_TITLES.get(code, code.replace("_", " ").capitalize())
