"""Overview: the five DORA metrics (and incident recovery) as cards — each against the previous period
and against a chosen baseline — the overall level and Quick Check score, deployments per period,
freshness."""
from __future__ import annotations

import html

import pandas as pd
import streamlit as st

from core.text import escape_markdown
from dashboard import cards, charts, data, ui
from dashboard.cards import latest_rows, period_days
from dashboard.review import render_review_button
from dashboard.catalog import (
    COLOURS, LEVEL_BADGES, MIN_OBSERVED_SHARE, MIN_RECORDS, change_arrow, change_badge, format_change, format_value,
    is_missing, judge_period_change,
)
from metrics.filters import NO_TEAM
from metrics.goals import MET, MISSED
from metrics.registry import LEVELS, PERIOD_METRICS

# Card values wrap instead of ending in "…" when a column is narrow (800 px, several services).
CARD_STYLE = """<style>
[data-testid="stMetricValue"] > div { white-space: normal; overflow: visible; text-overflow: clip;
  font-size: clamp(1.4rem, 2.6vw, 2.25rem); line-height: 1.15; }
[data-testid="stMetricLabel"] p { white-space: normal; }
</style>"""
# metrics.compare's verdicts as a card says them, in the words of the previous-period badge.
BASELINE_VERDICTS = {"improved": "better", "worse": "worse", "not distinguishable from noise": "about the same",
                     "not enough data": "too early to tell"}
# A goal's status as a badge says it: met in the good direction's colour, missed in the bad one's.
GOAL_VERDICTS = {MET: "better", MISSED: "worse"}
# The DORA Quick Check's questions: the five DORA metrics (incident recovery is not one of them).
QUICK_CHECK = tuple(m.id for m in PERIOD_METRICS if m.dora)

st.title("Are we getting faster and safer?")
snap, status, view = ui.load_context()
st.html(CARD_STYLE)
summary = data.load_summary(snap, view)
scopes = list(view.services) or ["all"]
levels = data.load_levels(snap, view)
annotations = data.load_annotations(snap, view)
goals = ui.load_goals()


def choose_baseline() -> tuple[str, dict[str, data.Baseline]]:
    """The sidebar's "Compare with": the window before the first annotation (default), any annotation's
    window, or the previous period only; in the URL as `?baseline=before`, `?baseline=<annotation id>`
    or `?baseline=previous` (an annotation's name works too)."""
    windows = data.load_baselines(snap, data.compare_scope(snap, view))
    options = {key: f"{w.label} ({w.start:%d %b %Y} – {w.end:%d %b %Y})" for key, w in windows.items()}
    options["previous"] = "the previous period only"
    with st.sidebar:
        choice = ui.choose_in_url(
            st.selectbox, "Compare with", options, key="baseline", default=next(iter(options)),
            names={key: window.label for key, window in windows.items()},
            help="Each card compares its latest period with the one before it, and with this window: by "
                 "default the days before the first annotation (`dora annotate`), the way things were.")
    return choice, windows


def is_partial(grain: str, start) -> bool:
    """True when the period starting on `start` goes on past the data's last day (it is not over)."""
    return period_days(grain, start)[1] > status.last_day


def well_observed(row: pd.Series) -> bool:
    """At least MIN_OBSERVED_SHARE of the period's calendar days are inside the data."""
    first, last = period_days(view.grain, row["period_start"])
    return row["observed_days"] >= MIN_OBSERVED_SHARE * ((last - first).days + 1)


def level_of(scope: str, period_start, metric_id: str) -> str | None:
    """The DORA level of one card's value (metrics.levels), when the build has levels."""
    if levels.empty:
        return None
    row = levels[(levels["service"] == scope) & (levels["metric"] == metric_id)
                 & (pd.to_datetime(levels["period_start"]) == pd.Timestamp(period_start))]
    value = row["level"].iloc[0] if len(row) else None
    return value if isinstance(value, str) else None


def previous_badge(metric, current: pd.Series, previous: pd.Series | None, label: str | None) -> str:
    """The change against the previous period, judged only when both periods are well observed and
    have at least MIN_RECORDS records behind their values."""
    if previous is None:
        return ""
    value, before = current[metric.column], previous[metric.column]
    enough = (well_observed(current) and well_observed(previous)
              and min(current[metric.count_column], previous[metric.count_column]) >= MIN_RECORDS)
    verdict = judge_period_change(metric, value, before, enough=enough)
    if verdict is None:
        return ""
    arrow = "→" if verdict == "unchanged" else change_arrow(value, before)
    text = verdict if verdict == "too early to tell" else \
        f"{arrow} {format_change(metric, value, before) or ''} {verdict}".replace("  ", " ")
    return f"{change_badge(text, verdict)} vs {label}"


def baseline_change(metric, after, before) -> str:
    """A change against the baseline: a factor when the value at least doubled, else as format_change."""
    if metric.unit != "share" and before and after / before >= 2:
        return f"×{after / before:.1f}"
    return format_change(metric, after, before) or ""


def baseline_badge(metric, comparison: pd.DataFrame | None, label: str) -> str:
    """The current period against the baseline window, with metrics.compare's verdict (it judges only
    what is distinguishable from the data's own variation)."""
    if comparison is None:
        return ""
    row = comparison[comparison["metric"] == metric.id]
    if row.empty:
        return ""
    row = row.iloc[0]
    verdict = BASELINE_VERDICTS.get(row["verdict"], row["verdict"])
    before, after = row["before_value"], row["after_value"]
    if is_missing(before) or is_missing(after):
        return f"{change_badge('no value to compare', None)} vs {label}"
    if verdict in ("better", "worse", "about the same"):
        text = f"{change_arrow(after, before)} {baseline_change(metric, after, before)} {verdict}"
    else:
        text = verdict
    return (f"{change_badge(text.replace('  ', ' '), verdict)} vs {label} "
            f"(<span title=\"{html.escape(str(row['explanation']))}\">{format_value(metric, before)}</span>)")


def goal_badge(metric, value) -> str:
    """The card's value against the goal in force for the view's team (else the organisation's):
    met, missed or no data, with the goal as written in dora.toml."""
    goal = goals.goal_for(None if view.team == NO_TEAM else view.team, metric.id)
    if goal is None:
        return ""
    status = goal.judge(None if is_missing(value) else float(value))
    mark = {MET: "✓", MISSED: "✗"}.get(status, "–")
    written = html.escape(goal.text.replace("<=", "≤").replace(">=", "≥"))
    return change_badge(f"{mark} goal {written}: {status}", GOAL_VERDICTS.get(status))


def render_summary_line(scope: str, period_start) -> None:
    """The overall picture of the period: each DORA metric's level and the Quick Check score."""
    if levels.empty:
        return
    rows = levels[(levels["service"] == scope) & (pd.to_datetime(levels["period_start"]) == pd.Timestamp(period_start))]
    placed = rows[rows["level"].isin(LEVELS)]
    scored = rows[rows["metric"].isin(QUICK_CHECK)].dropna(subset=["quickcheck_score"])
    parts = []
    if not placed.empty:
        # the weakest metric's level: a team is as elite as its weakest key metric
        overall = max(placed["level"], key=LEVELS.index)
        counts = placed["level"].value_counts()
        spread = ", ".join(f"{level} on {counts[level]}" for level in LEVELS if level in counts)
        parts.append(f"DORA level :{LEVEL_BADGES[overall]}-badge[{overall.capitalize()}] "
                     f"(the weakest of {len(placed)} metrics; {spread})")
    if not scored.empty:
        score = scored["quickcheck_score"].mean()
        benchmark = scored["benchmark_2025_score"].mean()
        parts.append(f"Quick Check score **{score:.1f}** / 10 over {len(scored)} metrics "
                     f"(2025 all-industries mean {benchmark:.1f})")
    if parts:
        st.markdown(" · ".join(parts), help="Each metric is placed on its own against the DORA "
                    f"{rows['report'].iloc[0]} report's levels (docs/metrics.md, \"DORA levels\"); the Quick "
                    "Check score is the mean of the five DORA metrics' 0–10 scores.")


def render_cards(frame: pd.DataFrame, heading: str, scope: str, baseline_key: str,
                 windows: dict[str, data.Baseline]) -> None:
    current, previous = latest_rows(frame)
    if current is None:
        st.info(f"{heading}: no deployments, changes or incidents in the selected dates.")
        return
    first, last = period_days(view.grain, current["period_start"])
    label = charts.period_label(view.grain, current["period_start"])
    partial = is_partial(view.grain, current["period_start"])
    so_far = f" (so far: {int(current['observed_days'])} of {(last - first).days + 1} days)" if partial else ""
    caption = f"**{escape_markdown(heading)}** · {label}{so_far}"
    previous_label = charts.period_label(view.grain, previous["period_start"]) if previous is not None else None
    if previous_label:
        caption += f", compared with {previous_label}"
    comparison, baseline_label = None, None
    if baseline_key in windows:
        window = windows[baseline_key]
        baseline_label = escape_markdown(window.label)
        comparison, reason = cards.load_card_comparison(snap, view, frame, scope, window, status.last_day)
        caption += f" and with {baseline_label}" if comparison is not None else \
            f" (not with {baseline_label}: {escape_markdown(reason or '')})"
    st.markdown(caption)
    render_summary_line(scope, current["period_start"])
    columns = st.columns(3)
    for i, metric in enumerate(PERIOD_METRICS):
        value = current[metric.column]
        count = current.get(metric.count_column)
        level = level_of(scope, current["period_start"], metric.id)
        with columns[i % 3].container(border=True):
            st.metric(
                f"{metric.name} :{LEVEL_BADGES.get(level, 'gray')}-badge[{level.capitalize()}]" if level
                else metric.name,
                format_value(metric, value),
                help=f"{metric.label}. {metric.definition} Based on {int(count or 0):,} {metric.count_label}.",
            )
            badges = [b for b in (goal_badge(metric, value),
                                  previous_badge(metric, current, previous, previous_label),
                                  baseline_badge(metric, comparison, baseline_label or "")) if b]
            if badges:
                st.markdown("<br>".join(badges), unsafe_allow_html=True)
            trend = charts.sparkline_values(frame, metric)
            st.markdown(charts.sparkline_svg(trend, COLOURS[metric.id], label=f"{metric.name}: the last {len(trend)} "
                                             f"{view.grain}s with a value"), unsafe_allow_html=True)


baseline_key, baseline_windows = choose_baseline()


def prefetch_baselines(other: data.View) -> None:
    """The cards' comparisons with the baseline at another period (data.prefetch_grains calls this in
    its background thread): a change of period then finds them cached, as it finds the summary."""
    if baseline_key not in baseline_windows:
        return
    window = baseline_windows[baseline_key]
    frame = data.load_summary(snap, other)
    for scope in scopes:
        cards.load_card_comparison(snap, other, frame[frame["service"] == scope], scope, window, status.last_day)


for scope in scopes:
    render_cards(summary[summary["service"] == scope], ui.team_label(view.team) if scope == "all" else scope, scope,
                 baseline_key, baseline_windows)

st.subheader(f"Deployments per {view.grain}")
st.caption("Click a bar to list the deployments behind it.")
tabs = ui.scope_tabs([ui.team_label(view.team) if s == "all" else s for s in scopes], key="deployments-service")
for scope, tab in zip(scopes, tabs):
    if tab is None:  # only the selected service's tab is drawn
        continue
    with tab:
        part = summary[summary["service"] == scope]
        event = st.plotly_chart(
            charts.deployments_figure(part, view.grain, annotations=annotations), on_select="rerun", selection_mode="points",
            key=f"deployments-{scope}", config=ui.PLOTLY_CONFIG,
        )
        ui.download_csv(part[["period_start", "service", "deployments", "failed_deployments",
                              "change_failure_rate", "environment", "grain", "time_zone"]],
                        f"deployments-per-{view.grain}", key=f"deployments-{scope}-csv", label="Download chart data")
        for point in ui.selected_points(event)[:1]:
            period_start, service = point["customdata"][0], point["customdata"][1]
            ui.show_records(snap, "deployments", view.grain, period_start, service, view.environment,
                            title="Deployments", key=f"deployments-{scope}-records")

st.subheader("Data freshness")
freshness = data.load_freshness(snap)
if freshness.empty:
    st.caption("No ingest runs recorded.")
else:
    for row in freshness.itertuples():
        if row.last_outcome == "failed":
            st.warning(f"The last **{escape_markdown(row.origin)}** load failed "
                       f"({escape_markdown(row.last_message or 'no message')}); "
                       f"the figures are as of its last successful load.", icon=":material/warning:")
    ui.show_table(freshness, ["origin", "last_success_at", "last_outcome", "newest_event_at", "events", "runs"],
                  key="freshness", height="content")
    st.caption("Records: events for the event log and GitHub, dated process changes for annotations, answers "
               "for the survey.")
if not levels.empty:
    report = levels["report"].iloc[0]
    st.caption(f"Levels: each metric on its own against the DORA {report} report's table "
               "(docs/metrics.md, \"DORA levels\").")
st.caption(f"Too early to tell: a period with less than {MIN_OBSERVED_SHARE:.0%} of its days inside the data, or "
           f"fewer than {MIN_RECORDS} records behind a value, is not judged against the previous period. "
           f"Against the baseline, the verdict is `dora compare`'s: only what the data's own variation cannot "
           f"explain. Metrics built {status.built_at:%Y-%m-%d %H:%M} UTC; definitions: docs/metrics.md."
           if status.built_at is not None else "Definitions: docs/metrics.md.")
render_review_button(snap, status, view)
# after drawing: the other periods (and their comparisons with the baseline) are ready before the next click
data.prefetch_grains(snap, view, then=prefetch_baselines, tag=baseline_key)
data.prefetch_picks(snap, view)  # and what a pick needs: a service's or a team's cards find it read
