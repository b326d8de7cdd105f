"""Phase story: every metric in the baseline (before the first annotation) and in each phase between
annotations, each phase against the baseline with its verdict (metrics.story), and one metric's
path through the phases as a chart."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.errors import DoraError
from core.text import escape_markdown
from dashboard import data, ui
from dashboard.catalog import NEUTRAL, VERDICT_COLOURS
from metrics import story

# A phase's bar says its verdict; the baseline's and an undecided phase's are neutral.
BAR_COLOURS = {"improved": VERDICT_COLOURS["better"], "worse": VERDICT_COLOURS["worse"]}

st.title("Phase story")
st.caption("Each phase between annotations against the baseline before the first one: is the change real or noise?")
snap, status, view = ui.load_context()
scope = data.compare_scope(snap, view)  # one service, the team's services together, or the organisation
ui.note_several_services(view, scope, "this story is told for", "see its own (with its own annotations)")
try:
    long = data.load_story(snap, scope, view.environment)
except DoraError as exc:
    ui.explain_and_stop("No story to tell yet", f"{exc}. Annotations mark where a phase starts: "
                        "`dora annotate add NAME --date D`.")

windows = long.drop_duplicates("window")
st.caption(" · ".join(f"**{escape_markdown(w.window)}**: {w.start:%Y-%m-%d} to {w.end:%Y-%m-%d} ({w.days} days)"
                      for w in windows.itertuples())
           + f" · {escape_markdown(ui.scope_label(scope))}. × is a ratio to the "
           "baseline (rates, durations), otherwise a difference; ▲ improved, ▼ worse, ≈ not distinguishable "
           "from noise, ? not enough data (Holm-adjusted across each phase's metrics).")
st.dataframe(story.tabulate_story(long), hide_index=True, key="story", placeholder="–")
ui.download_csv(story.pivot_story(long), "story", key="story-csv")
with st.expander("What each verdict compared"):
    for window, part in long[long["window"] != story.BASELINE].groupby("window", sort=False):
        st.markdown(f"**{escape_markdown(window)}** against the baseline")
        st.markdown("\n".join(f"- {escape_markdown(line)}" for line in part["explanation"]))

labels = dict(zip(long["metric"], long["label"]))
# in the URL by its id (?story_metric=lead_time, metrics/story.py STORY_COLUMNS); its label works too
metric = ui.choose_in_url(st.selectbox, "Metric through the phases", labels, key="story_metric",
                          default=next(iter(labels)))
part = long[long["metric"] == metric]
figure = go.Figure(go.Bar(
    x=part["window"], y=part["value"],
    marker_color=[BAR_COLOURS.get(v, NEUTRAL) for v in part["verdict"]],
    text=[story.format_story_cell(r) for r in part.itertuples()], textposition="outside",
    hovertemplate="%{x}<br>%{text}<extra></extra>"))
figure.update_layout(height=380, margin=dict(t=30, b=10), showlegend=False,
                     yaxis_title=f"{labels[metric]} ({part['unit'].iloc[0]})")
st.plotly_chart(figure, key="story-chart", config=ui.PLOTLY_CONFIG)
ui.download_csv(part, f"story-{metric}", key="story-chart-csv", label="Download chart data")
