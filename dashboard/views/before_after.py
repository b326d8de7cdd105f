"""Before/after: two windows (chosen as dates or as annotations) compared metric by metric, with an
uncertainty measure fitted to each and a plain verdict (metrics.compare), and the distributions."""
from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from core.errors import DoraError
from core.text import escape_markdown
from dashboard import charts, data, ui
from dashboard.catalog import COLOURS, NEUTRAL, format_duration_minutes
from metrics.registry import METRICS_BY_ID
from metrics.story import format_versus

VERDICT_MARKS = {"improved": "▲ improved", "worse": "▼ worse",
                 "not distinguishable from noise": "≈ not distinguishable from noise",
                 "not enough data": "? not enough data"}
# The measures whose values before/after draws (metrics.compare.query_window_samples), by metric.
DISTRIBUTIONS = {
    "lead_time_hours": METRICS_BY_ID["lead_time"],
    "failed_deployment_recovery_minutes": METRICS_BY_ID["failed_deployment_recovery_time"],
    "incident_recovery_minutes": METRICS_BY_ID["incident_recovery_time"],
    "satisfaction_score": METRICS_BY_ID["developer_satisfaction"],
}


def format_amount(value, unit: str, *, change: bool = False) -> str:
    """A value (or a change of it) in the comparison's unit, as people read it."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sign = "+" if change and value > 0 else ""
    if unit == "share":
        return f"{sign}{value * 100:.1f} pts" if change else f"{value:.1%}"
    if unit == "hours":
        return ("+" if change and value > 0 else "") + format_duration_minutes(value * 60)
    if unit == "minutes":
        return ("+" if change and value > 0 else "") + format_duration_minutes(value)
    if unit == "deploys/day":
        return f"{sign}{value:.2f} /day"
    return f"{sign}{value:.2f}"


def is_ratio(row: pd.Series) -> bool:
    """Whether the comparison's estimate is a ratio (rate, medians, time ratio) or a difference."""
    return "ratio" in row["estimate_kind"]


def format_change(row: pd.Series) -> str:
    """The change: the estimate as × for a ratio, else the difference after − before; with the
    relative change where it adds something."""
    if is_ratio(row):
        return format_versus(row["estimate"], row["estimate_kind"], row["unit"])
    change = format_amount(row["after_value"] - row["before_value"], row["unit"], change=True)
    relative = row["relative_change"]
    return change + ("" if math.isnan(relative) or row["unit"] == "share" else f" ({relative:+.0%})")


def format_interval(row: pd.Series) -> str:
    if math.isnan(row["ci_low"]):
        return "–"
    share = f"{row['confidence']:.0%}"
    if is_ratio(row):
        return (f"{share}: {format_versus(row['ci_low'], row['estimate_kind'], row['unit'])} to "
                f"{format_versus(row['ci_high'], row['estimate_kind'], row['unit'])}")
    return f"{share}: {format_amount(row['ci_low'], row['unit'], change=True)} to " \
           f"{format_amount(row['ci_high'], row['unit'], change=True)}"


st.title("Before and after")
st.caption("Did the change work, and is the difference real or noise?")
snap, status, view = ui.load_context()
scope = data.compare_scope(snap, view)  # one service, the team's services together, or the organisation
ui.note_several_services(view, scope, "this comparison is for", "compare it alone")
# the annotations that apply to the scope: the organisation's, and its service's (its team's services') own
annotations = data.load_annotations(snap, view._replace(
    services=scope.services if scope.team is None and scope.services else (), team=scope.team))
span = data.load_data_span(snap, scope)
if span is None:
    ui.explain_and_stop("Nothing to compare yet", "No events for this scope. Load some with `dora ingest events FILE`.")

# In the URL by id (?compare=dates, ?before=<annotation id>): links name what the CLI names, and an
# annotation's name works too; a value the page does not know is said, not dropped (ui.choose_in_url).
modes = {"annotations": "Two annotations", "dates": "Two date ranges"}
if annotations.empty:
    del modes["annotations"]
mode = ui.choose_in_url(st.segmented_control, "Compare", modes, key="compare", default=next(iter(modes)),
                        required=True)
try:
    if mode == "annotations":
        notes = {str(i): name for i, name in zip(annotations["id"], annotations["name"])}
        left, right = st.columns(2)
        with left:
            before_ref = ui.choose_in_url(st.selectbox, "Before", notes, key="before", default=next(iter(notes)),
                                          help="The days before this annotation, since the previous one.")
        with right:
            after_ref = ui.choose_in_url(st.selectbox, "After", notes, key="after", default=list(notes)[-1],
                                         help="The days from this annotation to the next one.")
        before, after = data.load_annotation_windows(snap, before_ref, after_ref, scope)
    else:
        # Date ranges keep Streamlit's own URL binding: choose_in_url picks one of a set of options,
        # and a range of days is not one (check_bound_parameters says when a link's date is not one).
        third = (span[1] - span[0]) // 3
        left, right = st.columns(2)
        before = left.date_input("Before", value=(span[0], span[0] + third), min_value=span[0], max_value=span[1],
                                 key="before_dates", bind="query-params", format="YYYY-MM-DD")
        after = right.date_input("After", value=(span[1] - third, span[1]), min_value=span[0], max_value=span[1],
                                 key="after_dates", bind="query-params", format="YYYY-MM-DD")
        if len(before) < 2 or len(after) < 2:
            ui.explain_and_stop("Pick both ends of each window", "Each window needs a first and a last day.")
        before, after = tuple(before), tuple(after)
    table, samples = data.load_comparison(snap, before, after, scope, view.environment)
except DoraError as exc:
    ui.explain_and_stop("These windows cannot be compared", str(exc))

first = table.iloc[0]
st.caption(f"**Before**: {first['before_start']:%Y-%m-%d} to {first['before_end']:%Y-%m-%d} "
           f"({first['before_days']} days) · **After**: {first['after_start']:%Y-%m-%d} to "
           f"{first['after_end']:%Y-%m-%d} ({first['after_days']} days) · "
           f"{escape_markdown(ui.scope_label(scope))}. A verdict needs the whole interval on one side of "
           "no change; otherwise it is not distinguishable from noise. × is a ratio after ÷ before (rates, "
           "medians, recovery times); otherwise the change is a difference.")

shown = pd.DataFrame({
    "Metric": table["label"],
    "Before": [format_amount(v, u) for v, u in zip(table["before_value"], table["unit"])],
    "After": [format_amount(v, u) for v, u in zip(table["after_value"], table["unit"])],
    "Change": [format_change(row) for _, row in table.iterrows()],
    "Verdict": [VERDICT_MARKS.get(v, v) for v in table["verdict"]],
    "Uncertainty": [format_interval(row) for _, row in table.iterrows()],
    "n (before → after)": [f"{b:,} → {a:,}" for b, a in zip(table["before_n"], table["after_n"])],
})
st.dataframe(shown, hide_index=True, key="comparison", placeholder="–")
ui.download_csv(table, "before-after", key="comparison-csv")
st.markdown("**What each verdict compared** (n on each side and the units it rests on, the method, the "
            "interval, the p-value and its Holm adjustment across this comparison's metrics):")
st.markdown("\n".join(f"- {escape_markdown(line)}" for line in table["explanation"]))

st.subheader("The distributions side by side")
columns = st.columns(2)
for i, (measure, metric) in enumerate(DISTRIBUTIONS.items()):
    part = samples[samples["measure"] == measure]
    with columns[i % 2]:
        st.markdown(f"**{metric.name}** ({metric.unit})")
        if part.empty:
            st.caption("No values in either window.")
            continue
        st.plotly_chart(
            charts.distribution_figure(
                {"before": part.loc[part["window"] == "before", "value"],
                 "after": part.loc[part["window"] == "after", "value"]},
                unit=metric.unit, colours={"before": NEUTRAL, "after": COLOURS[metric.id]},
                log_y=metric.unit != "score", height=300),
            key=f"distribution-{measure}", config=ui.PLOTLY_CONFIG)
        ui.download_csv(part, f"before-after-{measure}", key=f"distribution-{measure}-csv",
                        label="Download chart data")
