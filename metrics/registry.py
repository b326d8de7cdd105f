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
    terminal_header: str  # its header in a narrow terminal column, e.g. "lead time"
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
        terminal_header="deploy frequency",
    ),
    Metric(
        "lead_time", "Change lead time (median)", "Change lead time", "hours", "lower",
        "metric_periods", "lead_time_median_hours", "changes_deployed", "changes deployed",
        "Median time from a change's first commit to the first production deployment that shipped it.",
        "{:.1f}", terminal_header="lead time",
    ),
    Metric(
        "change_failure_rate", "Change fail rate", "Change fail rate", "share", "lower",
        "metric_periods", "change_failure_rate", "deployments", "deployments",
        "Share of production deployments that were rolled back or caused an incident.", "{:.1%}",
        terminal_header="change fail rate",
    ),
    Metric(
        "failed_deployment_recovery_time", "Failed deployment recovery time (median)",
        "Failed deployment recovery", "minutes", "lower",
        "metric_periods", "failed_deployment_recovery_median_minutes", "failed_deployment_recoveries",
        "failed deployments recovered",
        "Median time from a failed deployment's finish to its rollback or the resolution of its incidents.",
        "{:.1f}", terminal_header="deploy recovery",
    ),
    Metric(
        "deployment_rework_rate", "Deployment rework rate", "Rework rate", "share", "lower",
        "metric_periods", "rework_rate", "deployments", "deployments",
        "Share of production deployments that were unplanned (hotfixes, fix-forwards).", "{:.1%}",
        terminal_header="rework rate", levels=False,
    ),
    Metric(
        "incident_recovery_time", "Incident recovery time (median, MTTR)", "Incident recovery (MTTR)",
        "minutes", "lower",
        "metric_periods", "incident_recovery_median_minutes", "incidents_resolved", "incidents resolved",
        "Median time from an incident's start to its resolution (the classic MTTR).", "{:.1f}",
        terminal_header="incident recovery", dora=False,
    ),
    Metric(
        "developer_satisfaction", "Developer satisfaction (mean)", "Developer satisfaction", "score", "higher",
        "metric_survey", "satisfaction_mean", "responses", "answers",
        "Mean answer of the developer-satisfaction survey, on its own scale.", "{:.2f}",
        terminal_header="satisfaction", dora=False, levels=False,
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


LEVELS = ("elite", "high", "medium", "low")  # DORA's performance levels, best first


@dataclass(frozen=True)
class LevelTier:
    """One performance level of one DORA report for one level scale (metric_levels.sql reads these).

    scale: the metric id whose answers the level is stated in; 'recovery' is the reports' one
    recovery row, applied to both failed_deployment_recovery_time and incident_recovery_time.
    answer_low..answer_high: the survey answers (1 worst .. 6 best) the level covers; for
    change_failure_rate the reports give one typical rate per level instead (typical_percent).
    """

    report: str
    scale: str
    level: str
    rank: int                          # 1 elite .. 4 low
    answer_low: int | None = None
    answer_high: int | None = None
    typical_percent: int | None = None


def _tiers(report: str, scale: str, *ranges: tuple[int, int]) -> tuple[LevelTier, ...]:
    """Elite, high, medium and low of one report and scale, from their answer ranges."""
    return tuple(LevelTier(report, scale, level, rank, low, high)
                 for rank, (level, (low, high)) in enumerate(zip(LEVELS, ranges), start=1))


def _rates(report: str, *percents: int) -> tuple[LevelTier, ...]:
    """Elite, high, medium and low of one report's change fail rate, from their typical rates."""
    return tuple(LevelTier(report, "change_failure_rate", level, rank, typical_percent=percent)
                 for rank, (level, percent) in enumerate(zip(LEVELS, percents), start=1))


# DORA's software delivery performance levels, per report. Answers: 6 less than one hour / on demand,
# 5 less than one day / once per hour to once per day, 4 one day to one week / once per day to once
# per week, 3 one week to one month / once per week to once per month, 2 one to six months / once per
# month to once per six months, 1 longer / fewer (docs/metrics.md "DORA levels").
LEVEL_TIERS: tuple[LevelTier, ...] = (
    # 2024 Accelerate State of DevOps report
    *_tiers("2024", "deployment_frequency", (5, 6), (4, 4), (3, 3), (2, 2)),
    *_tiers("2024", "lead_time", (5, 6), (4, 4), (3, 3), (2, 2)),
    *_tiers("2024", "recovery", (6, 6), (5, 5), (5, 5), (3, 3)),  # high and medium share "less than one day"
    *_rates("2024", 5, 20, 10, 40),  # not ordered: high's 20% is worse than medium's 10%
    # 2023 Accelerate State of DevOps report
    *_tiers("2023", "deployment_frequency", (5, 6), (4, 4), (3, 3), (3, 3)),
    *_tiers("2023", "lead_time", (5, 6), (4, 4), (3, 3), (3, 3)),
    *_tiers("2023", "recovery", (6, 6), (5, 5), (4, 4), (2, 2)),
    *_rates("2023", 5, 10, 15, 64),
)
# The reports with levels, oldest first.
LEVEL_REPORTS: tuple[str, ...] = tuple(sorted({t.report for t in LEVEL_TIERS}))
