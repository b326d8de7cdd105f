"""What the dashboard shows and how it names it: every figure's label, unit, colour and direction.

One place, so a metric has the same name, unit and colour on every card, axis and table. Colours are
the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008), which stays distinguishable
with the common forms of colour blindness. The metrics themselves are computed in the metrics layer;
this module only says how to present the columns it returns.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

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


@dataclass(frozen=True)
class MetricSpec:
    """How one metric column of the summary (metrics.export.query_summary) is presented."""

    key: str            # short id, used in URLs and widget keys
    column: str         # the summary column holding the value
    label: str          # what people call it
    unit: str           # "deploys/day", "hours", "minutes", "%"
    colour: str
    better: str         # "higher" or "lower": how a change is coloured
    count_column: str   # the summary column with the sample behind the value
    count_label: str    # what that sample counts
    help: str           # one sentence: the definition (docs/metrics.md has the whole of it)
    name: str           # short name for cards, pickers and hovers
    card_colour: str    # st.metric's nearest named colour to `colour` (cards take only named ones)
    dora: bool = True   # one of DORA's five metrics (incident recovery is the classic MTTR)

    @property
    def axis_title(self) -> str:
        """The y-axis title, with its unit."""
        return f"{self.short_label} ({self.unit})"

    @property
    def short_label(self) -> str:
        return self.name


METRICS: tuple[MetricSpec, ...] = (
    MetricSpec(
        "deploy_frequency", "deploys_per_day", "Deployment frequency", "deploys/day",
        OKABE_ITO["blue"], "higher", "deployments", "deployments",
        "Production deployments per calendar day of the period.", "Deployment frequency", "blue",
    ),
    MetricSpec(
        "lead_time", "lead_time_median_hours", "Change lead time (median)", "hours",
        OKABE_ITO["green"], "lower", "changes_deployed", "changes deployed",
        "Median time from a change's first commit to the first production deployment that shipped it.",
        "Change lead time", "green",
    ),
    MetricSpec(
        "change_fail_rate", "change_failure_rate", "Change fail rate", "%",
        OKABE_ITO["vermillion"], "lower", "deployments", "deployments",
        "Share of production deployments that were rolled back or caused an incident.", "Change fail rate",
        "red",
    ),
    MetricSpec(
        "deploy_recovery", "failed_deployment_recovery_median_minutes",
        "Failed deployment recovery time (median)", "minutes",
        OKABE_ITO["purple"], "lower", "failed_deployment_recoveries", "failed deployments recovered",
        "Median time from a failed deployment's finish to its rollback or the resolution of its incidents.",
        "Failed deployment recovery", "violet",
    ),
    MetricSpec(
        "rework_rate", "rework_rate", "Deployment rework rate", "%",
        OKABE_ITO["orange"], "lower", "deployments", "deployments",
        "Share of production deployments that were unplanned (hotfixes, fix-forwards).", "Rework rate",
        "orange",
    ),
    MetricSpec(
        "incident_recovery", "incident_recovery_median_minutes", "Incident recovery time (median, MTTR)",
        "minutes", OKABE_ITO["black"], "lower", "incidents_resolved", "incidents resolved",
        "Median time from an incident's start to its resolution (the classic MTTR).",
        "Incident recovery (MTTR)", "gray", dora=False,
    ),
)
METRICS_BY_KEY = {m.key: m for m in METRICS}

# metric_levels.metric for each card (metrics/levels.py): each metric is classified on its own.
LEVEL_METRICS = {
    "deploy_frequency": "deployment_frequency", "lead_time": "lead_time", "change_fail_rate": "change_failure_rate",
    "deploy_recovery": "failed_deployment_recovery_time", "rework_rate": "deployment_rework_rate",
    "incident_recovery": "incident_recovery_time",
}
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


def format_value(spec: MetricSpec, value) -> str:
    """A metric's value with its unit, as a card or a table shows it."""
    if is_missing(value):
        return "–"
    if spec.unit == "%":
        return f"{value:.1%}"
    if spec.unit == "hours":
        return format_duration_minutes(value * 60)
    if spec.unit == "minutes":
        return format_duration_minutes(value)
    if spec.unit == "deploys/day":
        if value >= 1 or value == 0:
            return f"{value:.1f} per day"
        return f"{value * 7:.1f} per week"
    return f"{value:g} {spec.unit}"


def plot_value(spec: MetricSpec, value):
    """The value on the chart's axis: rates as percentages, the rest as stored."""
    if is_missing(value):
        return None
    return value * 100 if spec.unit == "%" else value


def format_change(spec: MetricSpec, current, previous) -> str | None:
    """The change against the previous period, as st.metric's delta: '+2.1 pp', '−35%'."""
    if is_missing(current) or is_missing(previous):
        return None
    if spec.unit == "%":
        points = (current - previous) * 100
        return "±0.0 pp" if abs(points) < 0.05 else f"{points:+.1f} pp"
    if previous == 0:
        return None
    return f"{(current - previous) / previous:+.0%}"


def judge_change(spec: MetricSpec, current, previous) -> str | None:
    """'better', 'worse' or 'unchanged' — said in words, so the judgement never rests on colour alone."""
    if is_missing(current) or is_missing(previous):
        return None
    if current == previous or (spec.unit == "%" and abs(current - previous) < 0.0005):
        return "unchanged"
    improved = current > previous if spec.better == "higher" else current < previous
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
