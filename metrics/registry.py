"""The metric registry: every metric's one identity — id, label, unit, direction, format, where it lives.

Every reader takes its names from here: the CLI's tables and choices, the CSV export, before/after
comparisons, DORA levels, explanations and the dashboard's cards, charts and URLs. One id per
metric everywhere (SQL values, CSV, URLs, code); docs/metrics.md defines each one in words, and
tests/test_registry.py checks that the docs, the models and this table agree.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    """One metric as every layer names and shows it."""

    id: str              # the one id: SQL values, CSV, URLs, CLI choices, code
    label: str           # what people call it, e.g. "Change lead time (median)"
    name: str            # short name for cards, pickers, hovers and terminal headers
    unit: str            # "deploys/day", "hours", "minutes", "share", "score"
    better: str          # "higher" or "lower": which way is an improvement
    model: str           # the table that holds the per-period value
    column: str          # its column there (for metric_periods: the export's column)
    count_column: str    # the column with the sample behind the value
    count_label: str     # what that sample counts
    definition: str      # one sentence; docs/metrics.md has the whole of it
    terminal_format: str  # how a terminal table writes the value
    dora: bool = True    # one of DORA's five metrics (incident recovery is the classic MTTR)
    levels: bool = True  # classified into DORA's performance levels (metric_levels)

    def format_terminal(self, value) -> str:
        """The value as a terminal table writes it; '–' when undefined."""
        if value is None or value != value:
            return "–"
        return self.terminal_format.format(value)


METRICS: tuple[Metric, ...] = (
    Metric(
        "deployment_frequency", "Deployment frequency", "Deployment frequency", "deploys/day", "higher",
        "metric_periods", "deploys_per_day", "deployments", "deployments",
        "Production deployments per calendar day of the period.", "{:.2f}",
    ),
    Metric(
        "lead_time", "Change lead time (median)", "Change lead time", "hours", "lower",
        "metric_periods", "lead_time_median_hours", "changes_deployed", "changes deployed",
        "Median time from a change's first commit to the first production deployment that shipped it.",
        "{:.1f}",
    ),
    Metric(
        "change_failure_rate", "Change fail rate", "Change fail rate", "share", "lower",
        "metric_periods", "change_failure_rate", "deployments", "deployments",
        "Share of production deployments that were rolled back or caused an incident.", "{:.1%}",
    ),
    Metric(
        "failed_deployment_recovery_time", "Failed deployment recovery time (median)",
        "Failed deployment recovery", "minutes", "lower",
        "metric_periods", "failed_deployment_recovery_median_minutes", "failed_deployment_recoveries",
        "failed deployments recovered",
        "Median time from a failed deployment's finish to its rollback or the resolution of its incidents.",
        "{:.1f}",
    ),
    Metric(
        "deployment_rework_rate", "Deployment rework rate", "Rework rate", "share", "lower",
        "metric_periods", "rework_rate", "deployments", "deployments",
        "Share of production deployments that were unplanned (hotfixes, fix-forwards).", "{:.1%}",
        levels=False,
    ),
    Metric(
        "incident_recovery_time", "Incident recovery time (median, MTTR)", "Incident recovery (MTTR)",
        "minutes", "lower",
        "metric_periods", "incident_recovery_median_minutes", "incidents_resolved", "incidents resolved",
        "Median time from an incident's start to its resolution (the classic MTTR).", "{:.1f}",
        dora=False,
    ),
    Metric(
        "developer_satisfaction", "Developer satisfaction (mean)", "Developer satisfaction", "score", "higher",
        "metric_survey", "satisfaction_mean", "responses", "answers",
        "Mean answer of the developer-satisfaction survey, on its own scale.", "{:.2f}",
        dora=False, levels=False,
    ),
)

METRICS_BY_ID: dict[str, Metric] = {m.id: m for m in METRICS}
# The delivery metrics of every period's summary (metric_periods), in the order readers show them.
PERIOD_METRICS: tuple[Metric, ...] = tuple(m for m in METRICS if m.model == "metric_periods")


def get_metric(metric_id: str) -> Metric:
    """The metric with this id; a KeyError names the ids there are."""
    try:
        return METRICS_BY_ID[metric_id]
    except KeyError:
        raise KeyError(f"no metric {metric_id!r}; metrics: {', '.join(METRICS_BY_ID)}") from None
