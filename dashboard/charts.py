"""Chart builders: pure functions of DataFrames that return Plotly figures (no Streamlit, no I/O).

Every figure follows the same rules, so they can be tested on small frames: a metric keeps its colour
from `catalog.COLOURS` everywhere, every axis names its unit, every mark has a hover text with its
value formatted for people, and every selectable mark carries `customdata` saying which records it
stands for (the period, the service, …) so a page can list them when it is clicked.

Time charts share two more rules. A period's mark sits at the period's middle and a bar spans the whole
period (`period_geometry`), so a dated marker (`add_annotations`) lands where its day is: a marker on a
period's first day is on that bar's left edge, never half a period off. Durations are labelled in the
unit the data's range calls for (`duration_unit`: 3 min, 36 h, 5 days — never 0.05 h), on axes and in
hovers alike.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.catalog import (
    ANNOTATION, COLOURS, GRAIN_AXIS, NEUTRAL, OKABE_ITO, axis_title, axis_unit, format_duration_minutes,
    format_value, is_missing, plot_value,
)
from metrics.registry import Metric
from metrics.stats import wilson_interval

FONT = dict(family="Source Sans Pro, Helvetica, Arial, sans-serif", size=13)
HOVER = dict(bgcolor="white", font_size=13)


def period_label(grain: str, start) -> str:
    """How a period is named in hovers and captions: 'week of 2026-05-04', 'May 2026', '2026 Q2'."""
    start = pd.Timestamp(start)
    if grain == "day":
        return start.strftime("%a %Y-%m-%d")
    if grain == "week":
        return f"week of {start:%Y-%m-%d}"
    if grain == "month":
        return start.strftime("%b %Y")
    return f"{start.year} Q{(start.month - 1) // 3 + 1}"


def _layout(fig: go.Figure, *, height: int, x_title: str | None, y_title: str | None,
            showlegend: bool = False, time_axis: bool = False) -> go.Figure:
    """The shared look. The legend sits above the plot (never below, where the x-axis title is), and
    only where it tells series apart: a one-entry legend says nothing the title does not."""
    names = {t.name for t in fig.data if t.showlegend is not False}
    fig.update_layout(
        template="plotly_white", height=height, font=FONT, hoverlabel=HOVER,
        showlegend=showlegend and len(names) > 1,
        margin=dict(l=10, r=10, t=40, b=10), hovermode="closest", dragmode=False,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if time_axis:  # a period's name centred on its span, as its bar is, not on its first day
        fig.update_xaxes(ticklabelmode="period")
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    fig.update_yaxes(rangemode="tozero", zeroline=True, zerolinecolor="#DDDDDD")
    return fig


LOG_TICKS = [m * 10.0 ** e for e in range(-3, 6) for m in (1, 2, 5)]


def log_axis(fig: go.Figure) -> None:
    """A log y axis labelled at 1-2-5 steps (plain numbers), instead of Plotly's crowded minor digits."""
    fig.update_yaxes(type="log", rangemode="normal", tickvals=LOG_TICKS, ticktext=[f"{v:g}" for v in LOG_TICKS])


def period_ends(starts, grain: str) -> pd.DatetimeIndex:
    """The first day after each period that starts on `starts` (weeks, months and quarters vary in length)."""
    starts = pd.DatetimeIndex(pd.to_datetime(starts))
    if grain in ("month", "quarter"):
        return (starts.to_period("M" if grain == "month" else "Q") + 1).start_time
    return starts + pd.Timedelta(days=7 if grain == "week" else 1)


def period_geometry(starts, grain: str) -> tuple[pd.DatetimeIndex, list[float]]:
    """Where each period's mark goes on a date axis: its middle, and its width in milliseconds (Plotly's
    unit for a bar's width on a date axis). A bar at the middle with the full width spans the period
    exactly, so it starts where a marker dated on the period's first day stands."""
    starts = pd.DatetimeIndex(pd.to_datetime(starts))
    spans = period_ends(starts, grain) - starts
    return starts + spans / 2, (spans / pd.Timedelta(milliseconds=1)).tolist()


# (name, minutes in one) from the smallest; an axis takes the largest its data reaches twice over
DURATION_UNITS = (("seconds", 1 / 60), ("minutes", 1.0), ("hours", 60.0), ("days", 1440.0))
# Labels of a logarithmic duration axis: roughly one per half decade, in the words people use.
LOG_DURATION_TICKS = ((1 / 60, "1 s"), (10 / 60, "10 s"), (1, "1 min"), (5, "5 min"), (15, "15 min"),
                      (60, "1 h"), (240, "4 h"), (1440, "1 day"), (10080, "1 week"), (43200, "30 days"),
                      (525600, "1 year"))


def duration_unit(minutes) -> tuple[str, float]:
    """The unit durations (in minutes) are labelled in, from the data's range: the largest unit the
    largest value reaches at least twice (100 min stays minutes, 150 min reads 2.5 hours, 3 days are
    days), so an axis never reads 0.05 h or 7,200 min. Undefined values are left out."""
    top = max((abs(v) for v in minutes if not is_missing(v)), default=0.0)
    for name, size in reversed(DURATION_UNITS):
        if top >= 2 * size:
            return name, size
    return DURATION_UNITS[0]


def nice_step(top: float, ticks: int = 5) -> float:
    """A 1-2-5 step that covers 0..`top` in about `ticks` steps."""
    if top <= 0:
        return 1.0
    raw = top / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)


def duration_axis(fig: go.Figure, values, *, per_minute: float, title: str | None, log: bool = False) -> str:
    """Label the y axis of durations in human units, whatever unit the data is stored in.

    `values` are the plotted values in their stored unit and `per_minute` that unit in minutes (1 for
    minutes, 60 for hours). The data stays as stored (hovers and selections keep their values); only
    tick positions and texts change: a linear axis gets 1-2-5 steps in the unit `duration_unit` picks,
    named in the title; a log axis gets ticks at 1 min, 15 min, 1 h, 1 day, … named on the ticks.
    Returns what the title's brackets say (the unit, or "log scale"); `title` None sets no title.
    """
    minutes = [v * per_minute for v in values if not is_missing(v)]
    if log:
        low, high = (min((m for m in minutes if m > 0), default=1.0), max(minutes, default=1.0))
        ticks = [(m, text) for m, text in LOG_DURATION_TICKS if low / 10 <= m <= high * 10]
        fig.update_yaxes(type="log", rangemode="normal", tickvals=[m / per_minute for m, _ in ticks],
                         ticktext=[text for _, text in ticks])
        label = "log scale"
    else:
        label = _linear_duration_ticks(fig, minutes, per_minute)
    if title is not None:
        fig.update_yaxes(title_text=f"{title} ({label})")
    return label


def _linear_duration_ticks(fig: go.Figure, minutes: list[float], per_minute: float) -> str:
    """1-2-5 ticks from 0 in the unit the data's range calls for; returns that unit's name."""
    name, size = duration_unit(minutes)
    top = max(minutes, default=0.0) / size
    step = nice_step(top)
    count = int(math.ceil(top / step)) + 1 if top > 0 else 2
    fig.update_yaxes(tickvals=[k * step * size / per_minute for k in range(count)],
                     ticktext=[f"{k * step:g}" for k in range(count)])
    return name


MINUTES_PER = {"minutes": 1.0, "hours": 60.0}  # registry units that are durations, in minutes


def _hover_rows(frame: pd.DataFrame, metric: Metric, grain: str) -> np.ndarray:
    """customdata per point: [period_start ISO, service, period label, value text, count text]."""
    rows = []
    counts = frame[metric.count_column] if metric.count_column in frame else [None] * len(frame)
    for start, service, value, count in zip(frame["period_start"], frame["service"], frame[metric.column], counts):
        count_text = "" if is_missing(count) else f"{int(count):,} {metric.count_label}"
        rows.append([pd.Timestamp(start).date().isoformat(), service, period_label(grain, start),
                     format_value(metric, value), count_text])
    return custom_rows(rows)


def custom_rows(rows: list[list]) -> np.ndarray:
    """Points' customdata as one object array: the same JSON as the lists, but Plotly validates and
    copies an array at once, where it walks a list of lists value by value (5,000 incidents: 0.3 s)."""
    array = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for i, row in enumerate(rows):  # cell by cell: a cell may hold a list, which numpy would unpack
        for j, value in enumerate(row):
            array[i, j] = value
    return array


def _text(value, default: str) -> str:
    """A text cell, or `default` where it is missing (None or NaN, as pandas may give either)."""
    return value if isinstance(value, str) and value else default


def short_label(name: str, limit: int = 30) -> str:
    """An annotation's name as a chart shows it: up to `limit` characters (hover shows it whole)."""
    return name if len(name) <= limit else name[:limit - 1] + "…"


def _panels(fig: go.Figure) -> list[tuple[str, str]]:
    """The (x axis, y axis) pairs that hold a trace: one for a plain chart, one per panel otherwise."""
    return list(dict.fromkeys((t.xaxis or "x", t.yaxis or "y") for t in fig.data))


def add_annotations(fig: go.Figure, annotations: pd.DataFrame | None) -> None:
    """Dated process changes as labelled vertical markers (columns: `starts_on`, `name`).

    A marker stands at the start (midnight) of its day, the x a period's bar starts at (see
    `period_geometry`). On one chart, labels sit above the plot in staggered rows, so they cover no
    data and neighbours do not overprint; the legend goes above them. On small multiples every panel
    gets the lines and the top row the labels (shortened: the subplot titles sit above), so the same
    change reads at the same place on every panel. Each label shows the whole name on hover.
    """
    if annotations is None or annotations.empty:
        return
    panels = _panels(fig) or [("x", "y")]
    rows = min(4, len(annotations))
    marks = [(pd.Timestamp(on), name) for on, name in zip(annotations["starts_on"], annotations["name"])]
    shapes, notes = [], []
    if len(panels) == 1:
        for i, (x, name) in enumerate(marks):
            shapes.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", xref="x",
                               line=dict(color=ANNOTATION, width=1, dash="dot")))
            notes.append(dict(x=x, y=1.0, yref="paper", xref="x", text=short_label(name),
                              hovertext=f"{x:%Y-%m-%d}: {name}", showarrow=False, xanchor="left",
                              yanchor="bottom", yshift=4 + 17 * (i % rows),
                              font=dict(size=11, color=ANNOTATION), bgcolor="rgba(255,255,255,0.85)"))
        extend_layout(fig, shapes, notes)
        labels = 8 + 17 * rows  # pixels the labels take above the plot
        top = fig.layout.margin.t if fig.layout.margin.t is not None else 40
        fig.update_layout(margin=dict(t=max(top, labels + 14)))
        if fig.layout.showlegend:  # above the labels: below the plot it would cover the x-axis title
            plot = max(120, (fig.layout.height or 360) - labels - 100)  # the plot's height, about
            fig.update_layout(legend=dict(y=1 + labels / plot, yanchor="bottom"))
        return
    top_domain = max(fig.layout[_axis_key(y)].domain[1] for _, y in panels)
    for x_axis, y_axis in panels:
        on_top = fig.layout[_axis_key(y_axis)].domain[1] == top_domain
        for i, (x, name) in enumerate(marks):
            shapes.append(dict(type="line", x0=x, x1=x, y0=0, y1=1, xref=x_axis, yref=f"{y_axis} domain",
                               line=dict(color=ANNOTATION, width=1, dash="dot")))
            if on_top:
                notes.append(dict(x=x, y=1.0, xref=x_axis, yref=f"{y_axis} domain",
                                  text=short_label(name.split(":")[0], 14), hovertext=f"{x:%Y-%m-%d}: {name}",
                                  showarrow=False, xanchor="left", yanchor="top", yshift=-2 - 14 * (i % rows),
                                  font=dict(size=10, color=ANNOTATION), bgcolor="rgba(255,255,255,0.85)"))
    extend_layout(fig, shapes, notes)


def extend_layout(fig: go.Figure, shapes: Sequence[dict] = (), notes: Sequence[dict] = ()) -> None:
    """Append shapes and annotations to the figure in one assignment each.

    Plotly's add_shape, add_annotation and add_hline validate the figure's whole list again on every
    call (add_hline with row="all" also scans every trace for every panel): markers and goal lines on a
    12-panel chart took 2 s that way (docs/performance.md, "Dashboard"); one assignment takes 0.05 s.
    """
    if shapes:
        fig.layout.shapes = (*fig.layout.shapes, *shapes)
    if notes:
        fig.layout.annotations = (*fig.layout.annotations, *notes)


def _axis_key(ref: str) -> str:
    """'y2' → 'yaxis2' (a trace's axis reference as the layout names the axis)."""
    return ref[0] + "axis" + ref[1:]


def trend_figure(frame: pd.DataFrame, metric: Metric, grain: str, *,
                 annotations: pd.DataFrame | None = None, log_y: bool = False, height: int = 360) -> go.Figure:
    """One metric over time for one service (or 'all'): a line with a marker per period.

    `frame` is summary rows (metrics.export.query_summary) for a single service. Undefined values (a
    period without deployments has no fail rate) are gaps in the line, never zeros.
    """
    frame = frame.sort_values("period_start")
    y = [plot_value(metric, v) for v in frame[metric.column]]
    colour = COLOURS[metric.id]
    fig = go.Figure(go.Scatter(
        x=period_geometry(frame["period_start"], grain)[0], y=y, mode="lines+markers", name=metric.name,
        line=dict(color=colour, width=2.5), marker=dict(color=colour, size=8),
        connectgaps=False, customdata=_hover_rows(frame, metric, grain),
        hovertemplate="<b>%{customdata[2]}</b><br>" + metric.name
                      + ": %{customdata[3]}<br>%{customdata[4]}<extra>%{customdata[1]}</extra>",
    ))
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=axis_title(metric), time_axis=True)
    metric_axis(fig, metric, y, log_y=log_y)
    add_annotations(fig, annotations)
    return fig


def metric_axis_title(metric: Metric, values, *, log_y: bool = False) -> str:
    """A metric's y-axis title for the plotted `values`: 'Change lead time (days)', 'Change fail rate (%)'."""
    if metric.unit not in MINUTES_PER:
        return axis_title(metric)
    if log_y:
        return f"{metric.name} (log scale)"
    return f"{metric.name} ({duration_unit([v * MINUTES_PER[metric.unit] for v in values if not is_missing(v)])[0]})"


def metric_axis(fig: go.Figure, metric: Metric, values, *, log_y: bool) -> None:
    """A metric's y axis: durations in the unit their range calls for, the rest as the registry names them."""
    if metric.unit in MINUTES_PER:
        duration_axis(fig, values, per_minute=MINUTES_PER[metric.unit], title=metric.name, log=log_y)
    elif log_y:
        log_axis(fig)


# A panel of small multiples is a third of the page wide (about 220 px at 800 px): Plotly would turn
# its date labels 30° and let them run into the next panel. A few level ticks, the year under the
# month, fit instead.
PANEL_TICKS = 4
PANEL_TICK_FORMAT = {"day": "%d %b\n%Y", "week": "%d %b\n%Y", "month": "%b\n%Y", "quarter": "Q%q\n%Y"}


def panel_time_axes(fig: go.Figure, grain: str) -> None:
    """The x axes of small panels: at most PANEL_TICKS labels, never rotated, on two lines."""
    fig.update_xaxes(tickangle=0, nticks=PANEL_TICKS, tickformat=PANEL_TICK_FORMAT[grain])


def small_multiples_figure(frame: pd.DataFrame, metric: Metric, grain: str, services: Sequence[str], *,
                           columns: int = 3, annotations: pd.DataFrame | None = None,
                           log_y: bool = False) -> go.Figure:
    """One small chart per service, same metric, same colour, shared axes so they compare at a glance."""
    services = list(services)
    colour = COLOURS[metric.id]
    rows = max(1, math.ceil(len(services) / columns))
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes=True, shared_yaxes=True,
                        subplot_titles=services, vertical_spacing=0.12 / max(1, rows - 1) + 0.06,
                        horizontal_spacing=0.04)
    for i, service in enumerate(services):
        part = frame[frame["service"] == service].sort_values("period_start")
        fig.add_trace(go.Scatter(
            x=period_geometry(part["period_start"], grain)[0], y=[plot_value(metric, v) for v in part[metric.column]],
            mode="lines+markers", name=service, line=dict(color=colour, width=2),
            marker=dict(color=colour, size=5), connectgaps=False,
            customdata=_hover_rows(part, metric, grain),
            hovertemplate="<b>%{customdata[1]}, %{customdata[2]}</b><br>" + metric.name
                          + ": %{customdata[3]}<br>%{customdata[4]}<extra></extra>",
        ), row=i // columns + 1, col=i % columns + 1)
    _layout(fig, height=60 + 190 * rows, x_title=None, y_title=None, time_axis=True)
    fig.update_yaxes(matches="y")  # one scale for every service, so the charts compare at a glance
    panel_time_axes(fig, grain)
    plotted = [plot_value(metric, v) for v in frame[frame["service"].isin(services)][metric.column]]
    if metric.unit in MINUTES_PER:
        unit = duration_axis(fig, plotted, per_minute=MINUTES_PER[metric.unit], title=None, log=log_y)
    else:
        unit = axis_unit(metric)
        if log_y:
            log_axis(fig)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text=unit, row=r, col=1)
    for c in range(1, columns + 1):
        fig.update_xaxes(title_text=GRAIN_AXIS[grain], row=rows, col=c)
    fig.update_annotations(font_size=13)  # the subplot titles
    add_annotations(fig, annotations)
    return fig


def deployments_figure(frame: pd.DataFrame, grain: str, *, annotations: pd.DataFrame | None = None,
                       height: int = 320) -> go.Figure:
    """Deployments per period as stacked bars: those that failed (fail-rate colour) on the others."""
    frame = frame.sort_values("period_start")
    x, widths = period_geometry(frame["period_start"], grain)
    failed = frame["failed_deployments"].fillna(0).astype(int)
    ok = frame["deployments"].fillna(0).astype(int) - failed
    labels = [period_label(grain, s) for s in frame["period_start"]]
    custom = custom_rows([[pd.Timestamp(s).date().isoformat(), svc, lab, int(d), int(f)]
                          for s, svc, lab, d, f in zip(frame["period_start"], frame["service"], labels,
                                                       frame["deployments"].fillna(0), failed)])
    fig = go.Figure()
    # Hundreds of periods (days over years) draw as stacked areas: one shape each instead of a bar per
    # period, which keeps a filter change quick; every period is still a point to hover and click.
    many = len(frame) > MAX_BARS
    series = [
        (ok, "deployed without failure", COLOURS["deployment_frequency"],
         "<b>%{customdata[2]}</b><br>%{customdata[3]:,} deployments, %{customdata[4]:,} failed<extra></extra>"),
        (failed, "failed (rolled back or caused an incident)", COLOURS["change_failure_rate"],
         "<b>%{customdata[2]}</b><br>%{customdata[4]:,} of %{customdata[3]:,} deployments failed<extra></extra>"),
    ]
    for y, name, colour, hover in series:
        if many:
            fig.add_trace(go.Scatter(x=x, y=y, name=name, mode="lines", stackgroup="deployments", customdata=custom,
                                     line=dict(color=colour, width=0.5), fillcolor=colour, hovertemplate=hover))
        else:
            fig.add_trace(go.Bar(x=x, y=y, width=widths, name=name, marker=dict(color=colour, line=BAR_EDGE),
                                 customdata=custom, hovertemplate=hover))
    fig.update_layout(barmode="stack")
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=f"deployments per {grain}", showlegend=True,
            time_axis=True)
    add_annotations(fig, annotations)
    return fig


BAR_EDGE = dict(color="white", width=1)  # bars span whole periods: a white edge tells neighbours apart
MAX_BARS = 120  # periods a bar chart draws as bars; more are drawn as stacked areas
OUTLIER_STEPS = 600  # an outlier per 1/600 of its box's span is drawn: finer than a pixel on charts of
                    # at most 460 px, so the points look the same (see box_statistics)


SEVERITY_SYMBOLS = ["circle", "diamond", "square", "triangle-up", "x", "star"]


def impossible_recoveries(frame: pd.DataFrame, column: str = "recovery_minutes") -> pd.Series:
    """Which rows have an impossible recovery time: negative (resolved before it started, recovered
    before it was exposed). They are data errors (dq_findings), listed beside a chart, never plotted."""
    return frame[column].notna() & (frame[column] < 0)


def incidents_figure(incidents: pd.DataFrame, *, colour: str = OKABE_ITO["sky"], height: int = 340,
                     annotations: pd.DataFrame | None = None) -> go.Figure:
    """Each resolved incident as a point: when it started (x) and how long recovery took (y).

    Marker shape tells severities apart (colour stays the metric's); unresolved incidents have no
    recovery time and are listed, not plotted; an impossible (negative) recovery is not plotted
    either (`impossible_recoveries`: the page lists it beside the chart).
    """
    resolved = incidents[incidents["recovery_minutes"].notna() & ~impossible_recoveries(incidents)].copy()
    fig = go.Figure()
    severities = sorted(resolved["severity"].fillna("unknown").unique()) if not resolved.empty else []
    for i, severity in enumerate(severities):
        part = resolved[resolved["severity"].fillna("unknown") == severity]
        custom = custom_rows([[iid, _text(svc, "no service"), format_duration_minutes(m), _text(dep, "none")]
                              for iid, svc, m, dep in zip(part["incident_id"], part["service"],
                                                          part["recovery_minutes"], part["attributed_to"])])
        fig.add_trace(go.Scatter(
            x=part["started_at"], y=part["recovery_minutes"], mode="markers", name=f"severity {severity}",
            marker=dict(color=colour, size=9, symbol=SEVERITY_SYMBOLS[i % len(SEVERITY_SYMBOLS)],
                        line=dict(color="#333333", width=0.5)),
            customdata=custom,
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>started %{x|%Y-%m-%d %H:%M} UTC<br>"
                          "recovered in %{customdata[2]}<br>attributed to: %{customdata[3]}<extra></extra>",
        ))
    _layout(fig, height=height, x_title="incident start (UTC)", y_title=None, showlegend=True)
    duration_axis(fig, resolved["recovery_minutes"].tolist(), per_minute=1, title="recovery time")
    add_annotations(fig, annotations)
    return fig


NO_INCIDENT = "no incident (rolled back)"


def severity_colours(severities: Sequence[str]) -> dict[str, str]:
    """One colour per severity, darkest for the first in sort order (sev1 before sev2: the most severe
    where the data follows the usual naming); a failed deployment without an incident is neutral."""
    ordered = sorted(s for s in severities if s != NO_INCIDENT)
    colours = dict(zip(ordered, shades(COLOURS["change_failure_rate"], len(ordered))[::-1]))
    if NO_INCIDENT in severities:
        colours[NO_INCIDENT] = NEUTRAL
    return colours


def incident_periods_figure(incidents: pd.DataFrame, failures: pd.DataFrame, grain: str, *,
                            annotations: pd.DataFrame | None = None, height: int = 460) -> go.Figure:
    """Incidents (top) and failed deployments (bottom) per period, stacked by severity, one shared legend.

    `incidents`: period_start, severity, incidents (by the period of their start); `failures`:
    period_start, severity, failed_deployments (by the period of their finish; severity is that of
    their most severe incident, or NO_INCIDENT for a rollback alone). Bars span their periods.
    """
    incidents = incidents.assign(severity=incidents["severity"].fillna("unknown"))
    failures = failures.assign(severity=failures["severity"].fillna("unknown"))
    colours = severity_colours(list(dict.fromkeys([*incidents["severity"], *failures["severity"]])))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.14,
                        subplot_titles=["Incidents (by start)", "Failed deployments (by finish)"])
    for row, (frame, count, what) in enumerate(((incidents, "incidents", "incidents"),
                                                (failures, "failed_deployments", "failed deployments")), start=1):
        for severity in colours:
            part = frame[frame["severity"] == severity].sort_values("period_start")
            if part.empty:
                continue
            x, widths = period_geometry(part["period_start"], grain)
            label = severity if severity == NO_INCIDENT else f"severity {severity}"
            custom = custom_rows([[pd.Timestamp(p).date().isoformat(), period_label(grain, p)]
                                  for p in part["period_start"]])
            fig.add_trace(go.Bar(
                x=x, y=part[count].tolist(), width=widths, name=label, legendgroup=severity,
                showlegend=row == 1 or severity not in set(incidents["severity"]),
                marker=dict(color=colours[severity], line=BAR_EDGE), customdata=custom,
                hovertemplate=f"<b>%{{customdata[1]}}</b> · {label}<br>%{{y:,}} {what}<extra></extra>",
            ), row=row, col=1)
    fig.update_layout(barmode="stack", legend_traceorder="normal")
    _layout(fig, height=height, x_title=None, y_title=None, showlegend=True, time_axis=True)
    fig.update_yaxes(title_text=f"incidents per {grain}", row=1, col=1)
    fig.update_yaxes(title_text=f"failed per {grain}", row=2, col=1)
    fig.update_xaxes(title_text=GRAIN_AXIS[grain], row=2, col=1)
    fig.update_annotations(font_size=13)  # the subplot titles
    add_annotations(fig, annotations)
    return fig


def findings_figure(counts: pd.DataFrame, *, height: int | None = None) -> go.Figure:
    """Data-quality findings per kind as horizontal bars (columns: finding, title, count)."""
    counts = counts.sort_values("count")
    fig = go.Figure(go.Bar(
        x=counts["count"], y=counts["title"], orientation="h", marker_color=OKABE_ITO["orange"],
        customdata=[[f] for f in counts["finding"]], text=[f"{c:,}" for c in counts["count"]],
        textposition="outside", cliponaxis=False,
        hovertemplate="<b>%{y}</b><br>%{x:,} records<extra></extra>",
    ))
    _layout(fig, height=height or 80 + 36 * max(1, len(counts)), x_title="records (count)", y_title=None)
    fig.update_yaxes(rangemode="normal", zeroline=False)
    return fig


def sparkline_values(frame: pd.DataFrame, metric: Metric, last: int = 12) -> list[float]:
    """The last `last` periods' values for a card's sparkline (undefined periods left out)."""
    values = [plot_value(metric, v) for v in frame.sort_values("period_start")[metric.column].tail(last)]
    return [v for v in values if v is not None]


def sparkline_svg(values: Sequence[float], colour: str, *, label: str, width: int = 240, height: int = 44) -> str:
    """A card's sparkline as inline SVG: a polyline in the metric's colour with its latest point marked.

    Plain SVG costs the browser next to nothing to draw, where a chart library per card would make
    every filter change slower; `label` becomes its accessible name and tooltip.
    """
    if len(values) < 2:
        return ""
    low, high = min(values), max(values)
    span = (high - low) or 1.0
    pad = 4
    points = [(pad + (width - 2 * pad) * i / (len(values) - 1),
               pad + (height - 2 * pad) * (1 - (v - low) / span)) for i, v in enumerate(values)]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    x, y = points[-1]
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" height="{height}" preserveAspectRatio="none" '
            f'role="img" aria-label="{label}"><title>{label}</title>'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
            f'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>'
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{colour}"/></svg>')


def to_date(value) -> date:
    """A selection's period (ISO text, Timestamp or datetime) as a date."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()


def shades(colour: str, n: int) -> list[str]:
    """`n` shades of one colour from light to dark: an ordered scale (small → large buckets) that
    reads by lightness, so it survives colour blindness and greyscale printing."""
    r, g, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    out = []
    for k in range(n):
        t = -0.55 + 0.9 * (k / (n - 1) if n > 1 else 1)  # < 0: mixed with white; > 0: with black
        if t < 0:
            rgb = (round(c + (255 - c) * -t) for c in (r, g, b))
        else:
            rgb = (round(c * (1 - t)) for c in (r, g, b))
        out.append("#{:02X}{:02X}{:02X}".format(*rgb))
    return out


SERIES_SYMBOLS = ["circle", "square", "diamond", "triangle-up", "x", "star", "hexagon"]
DASHES = ["solid", "dash", "dot", "dashdot", "longdash", "longdashdot"]


def series_figure(frame: pd.DataFrame, *, series: str, series_labels: dict[str, str], value: str,
                  count: str | None, count_label: str, grain: str, unit: str, colours: dict[str, str],
                  kind: str = "line", percent: bool = False, value_format=None, extra: Sequence[str] = (),
                  height: int = 340, annotations: pd.DataFrame | None = None, log_y: bool = False,
                  per_minute: float | None = None) -> go.Figure:
    """Several series of one measure over time (stages, buckets, outcomes): lines with a marker symbol
    and dash per series, or stacked bars. `frame` is long (period_start, service, `series`, `value`,
    `count`); customdata per point: [period ISO, service, period label, value text, count text,
    series, *extra]. Durations give `per_minute` (their stored unit in minutes) and `unit` without a
    unit ("CI time"): the axis then names the unit the data's range calls for."""
    fig = go.Figure()
    for i, (key, label) in enumerate(series_labels.items()):
        part = frame[frame[series] == key].sort_values("period_start")
        if part.empty:
            continue
        raw = part[value].tolist()
        y = [None if is_missing(v) else (v * 100 if percent else v) for v in raw]
        if value_format is not None:
            texts = ["–" if is_missing(v) else value_format(v) for v in raw]
        else:
            texts = ["–" if is_missing(v) else f"{v:.1%}" if percent else f"{v:,.1f} {unit}" for v in raw]
        counts = part[count].tolist() if count else [None] * len(part)
        extras = [part[e].tolist() for e in extra]
        custom = custom_rows([[pd.Timestamp(p).date().isoformat(), svc, period_label(grain, p), t,
                               "" if is_missing(c) else f"{int(c):,} {count_label}", key, *[e[j] for e in extras]]
                              for j, (p, svc, t, c) in enumerate(zip(part["period_start"], part["service"], texts,
                                                                     counts))])
        x, widths = period_geometry(part["period_start"], grain)
        common = dict(x=x, y=y, name=label, customdata=custom,
                      hovertemplate="<b>%{customdata[2]}</b> · " + label
                                    + "<br>%{customdata[3]}<br>%{customdata[4]}<extra></extra>")
        if kind == "bar":
            fig.add_trace(go.Bar(width=widths, marker=dict(color=colours[key], line=BAR_EDGE), **common))
        else:
            fig.add_trace(go.Scatter(
                mode="lines+markers", connectgaps=False,
                line=dict(color=colours[key], width=2.5, dash=DASHES[i % len(DASHES)]),
                marker=dict(color=colours[key], size=8, symbol=SERIES_SYMBOLS[i % len(SERIES_SYMBOLS)],
                            line=dict(color="#333333", width=0.5)),
                **common))
    if kind == "bar":
        fig.update_layout(barmode="stack", legend_traceorder="normal")
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=unit, showlegend=True, time_axis=True)
    if per_minute is not None:
        duration_axis(fig, [v for t in fig.data for v in t.y], per_minute=per_minute, title=unit, log=log_y)
    elif log_y:
        log_axis(fig)
    add_annotations(fig, annotations)
    return fig


def budget_line(fig: go.Figure, minutes: float, label: str) -> go.Figure:
    """A horizontal reference line (the CI budget) with its label."""
    fig.add_hline(y=minutes, line=dict(color=ANNOTATION, width=1.5, dash="dash"),
                  annotation_text=label, annotation_position="top left", annotation_font_size=12)
    return fig


def goal_line(fig: go.Figure, metric: Metric, target: float, text: str) -> go.Figure:
    """A metric's goal (metrics.goals.Goal: `target` in the metric's unit, `text` as written) as a
    dotted horizontal target line on a chart of that metric, labelled "goal <= 1 day"; on every
    panel of small multiples, and in log space on a log axis.

    The marks are those of fig.add_hline(row="all", col="all", annotation_position="top right"), one
    line and one label per panel with a trace, added in one step (`extend_layout`)."""
    y = plot_value(metric, target)
    if y is None or (fig.layout.yaxis.type == "log" and y <= 0):
        return fig  # a goal of 0 has no place on a log axis
    y = math.log10(y) if fig.layout.yaxis.type == "log" else y
    shapes, notes = [], []
    for x_axis, y_axis in _panels(fig) or [("x", "y")]:
        shapes.append(dict(type="line", x0=0, x1=1, xref=f"{x_axis} domain", y0=y, y1=y, yref=y_axis,
                           line=dict(color=NEUTRAL, width=1.5, dash="dot")))
        notes.append(dict(text=f"goal {text}", x=1, xanchor="right", xref=f"{x_axis} domain", y=y,
                          yanchor="bottom", yref=y_axis, showarrow=False, font=dict(size=12)))
    extend_layout(fig, shapes, notes)
    return fig


def box_statistics(values: pd.Series, *, log: bool) -> tuple[dict, np.ndarray]:
    """A box plot's statistics by Plotly's own rule — quartiles by linear interpolation, whiskers to the
    furthest value within 1.5 × the interquartile range of the box — and the outliers to draw: the
    values beyond the whiskers, one per OUTLIER_STEPS-th of the values' span on the axis (linear, or
    log10 for a log axis), each a real value.

    Computed here rather than by the browser: Plotly draws every outlier it is given, and a box of 20,000
    lead times has about 2,000 of them on one vertical line, most on the same pixel (four such boxes cost
    Chromium 0.45 s of the chart's 0.55 s). One per sub-pixel step looks the same, and hovers read true.
    """
    q1, median, q3 = values.quantile([0.25, 0.5, 0.75]).tolist()
    iqr = q3 - q1
    inside = values[(values >= q1 - 1.5 * iqr) & (values <= q3 + 1.5 * iqr)]
    stats = dict(q1=q1, median=median, q3=q3, lowerfence=inside.min(), upperfence=inside.max())
    outliers = np.sort(values[(values < stats["lowerfence"]) | (values > stats["upperfence"])].to_numpy())
    on_axis = np.log10(values.to_numpy()) if log else values.to_numpy()
    step = (on_axis.max() - on_axis.min()) / OUTLIER_STEPS
    if len(outliers) and step > 0:
        positions = np.log10(outliers) if log else outliers
        _, first = np.unique(np.floor((positions - on_axis.min()) / step), return_index=True)
        outliers = outliers[first]
    return stats, outliers


def distribution_figure(samples: dict[str, pd.Series], *, unit: str, colours: dict[str, str],
                        log_y: bool = True, height: int = 360, per_minute: float | None = None) -> go.Figure:
    """Box plots side by side (one per sample), outliers shown, on one axis with its unit.

    Each box is drawn from its statistics and its outliers as `box_statistics` gives them, whatever the
    sample's size. Durations give `per_minute` (the samples' unit in minutes) and `unit` without a unit:
    the values are then drawn in the unit the middle 90% of them calls for (an outlier does not turn
    minutes into weeks), so the axis and the hovers read "3.2 hours", not "0.13 days" nor "192 min".
    """
    samples = {name: pd.Series(values, dtype=float).dropna() for name, values in samples.items()}
    title, size = unit, None
    if per_minute is not None:
        everything = pd.concat(list(samples.values())) * per_minute if samples else pd.Series(dtype=float)
        name, size = duration_unit([everything.quantile(0.9)] if len(everything) else [])
        samples = {k: v * per_minute / size for k, v in samples.items()}
        unit = name
    fig = go.Figure()
    drawn: list[float] = []  # what the axis must span: the boxes' whiskers and the outliers
    for name, values in samples.items():
        if log_y:
            values = values[values > 0]  # a log axis has no place for zero: the caption says so
        if values.empty:
            continue
        stats, outliers = box_statistics(values, log=log_y)
        fig.add_trace(go.Box(x=[name], **{k: [v] for k, v in stats.items()}, name=name, legendgroup=name,
                             marker_color=colours[name], boxpoints=False))
        if len(outliers):
            fig.add_trace(go.Scatter(x=[name] * len(outliers), y=outliers, mode="markers", name=name,
                                     legendgroup=name, showlegend=False, marker=dict(color=colours[name], size=6),
                                     hovertemplate="%{y:,.3~g} " + unit + "<extra>" + name + " (outlier)</extra>"))
        drawn += [stats["lowerfence"], stats["upperfence"], *outliers]
    _layout(fig, height=height, x_title=None, y_title=title)
    if size is not None:  # the values are in `unit` now: ticks in that unit, the title naming it
        duration_axis(fig, drawn, per_minute=size, title=title, log=log_y)
    elif log_y:
        log_axis(fig)
    return fig


MIN_DEPLOYMENTS = 20  # deployments a bucket needs before its fail rate is read (below: grey, not hidden)
MIN_RECOVERIES = 5    # recoveries a median needs before it is read


def panels_figure(frame: pd.DataFrame, *, panel: str, panels: Sequence[str], value: str, count: str | None,
                  count_label: str, grain: str, unit: str, colour: str, value_format, columns: int = 3,
                  log_y: bool = False, percent: bool = False, per_minute: float | None = None,
                  min_count: int | None = None, titles: dict[str, str] | None = None,
                  annotations: pd.DataFrame | None = None) -> go.Figure:
    """One small chart per panel (a pipeline stage, a batch-size bucket …) of one measure, one colour,
    one shared scale: series that would cross on one chart sit side by side instead.

    A point whose `count` is below `min_count` is drawn hollow and grey (its hover says why): too few
    records to read, but not hidden. `titles` names the panels (default: the panel values);
    durations give `per_minute` as `series_figure` does.
    """
    panels = list(panels)
    titles = titles or {}
    rows = max(1, math.ceil(len(panels) / columns))
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes=True,
                        subplot_titles=[titles.get(p, p) for p in panels],
                        vertical_spacing=0.12 / max(1, rows - 1) + 0.06, horizontal_spacing=0.05)
    for i, name in enumerate(panels):
        part = frame[frame[panel] == name].sort_values("period_start")
        counts = part[count].tolist() if count else [None] * len(part)
        few = [min_count is not None and not is_missing(c) and c < min_count for c in counts]
        custom = custom_rows([[pd.Timestamp(p).date().isoformat(), svc, period_label(grain, p),
                               "–" if is_missing(v) else value_format(v),
                               ("" if is_missing(c) else f"{int(c):,} {count_label}")
                               + (" (too few to read)" if f else ""), name]
                              for p, svc, v, c, f in zip(part["period_start"], part["service"], part[value], counts,
                                                         few)])
        fig.add_trace(go.Scatter(
            x=period_geometry(part["period_start"], grain)[0],
            y=[None if is_missing(v) else v * 100 if percent else v for v in part[value]],
            mode="lines+markers", name=name, line=dict(color=colour, width=2),
            marker=dict(color=["white" if f else colour for f in few], size=6,
                        line=dict(color=[NEUTRAL if f else colour for f in few], width=1.5)),
            connectgaps=False, customdata=custom,
            hovertemplate="<b>" + titles.get(name, name) + ", %{customdata[2]}</b><br>%{customdata[3]}<br>"
                          "%{customdata[4]}<extra></extra>",
        ), row=i // columns + 1, col=i % columns + 1)
    _layout(fig, height=60 + 170 * rows, x_title=None, y_title=None, time_axis=True)
    fig.update_yaxes(matches="y")
    panel_time_axes(fig, grain)
    if per_minute is not None:
        unit = f"{unit} ({duration_axis(fig, [v for t in fig.data for v in t.y], per_minute=per_minute, title=None, log=log_y)})"
    elif log_y:
        log_axis(fig)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text=unit, row=r, col=1)
    fig.update_annotations(font_size=13)
    add_annotations(fig, annotations)
    return fig


def pool_buckets(frame: pd.DataFrame, *, min_deployments: int = MIN_DEPLOYMENTS) -> pd.DataFrame:
    """Batch-size rows (metric_batch_size, one dimension, one service) pooled over their periods:
    per bucket, in the order given, deployments, failed deployments, the change fail rate with its 95%
    Wilson interval, the share of all deployments, and whether it has `min_deployments` to be read.

    Pooling sums counts, which is exact (a deployment is in one period and one bucket); a rate is
    never averaged over periods.
    """
    order = list(dict.fromkeys(frame["bucket"]))
    sums = frame.groupby("bucket", sort=False)[["deployments", "failed_deployments"]].sum().reindex(order)
    intervals = [wilson_interval(int(f), int(n)) for f, n in zip(sums["failed_deployments"], sums["deployments"])]
    total = sums["deployments"].sum()
    return pd.DataFrame({
        "bucket": order,
        "deployments": sums["deployments"].astype(int).tolist(),
        "failed_deployments": sums["failed_deployments"].astype(int).tolist(),
        "change_failure_rate": [i.estimate for i in intervals],
        "low": [i.low for i in intervals],
        "high": [i.high for i in intervals],
        "share_of_deployments": (sums["deployments"] / total if total else sums["deployments"] * 0.0).tolist(),
        "enough": (sums["deployments"] >= min_deployments).tolist(),
    })


def _rate_with_interval(row) -> str:
    return f"{row.change_failure_rate:.1%} (95% interval {row.low:.1%}–{row.high:.1%}, {row.deployments:,} deployments)"


def pooled_sentence(pooled: pd.DataFrame, phrase: dict[str, str], sizes: Sequence[str]) -> str | None:
    """The headline of the batch-size page: the smallest against the largest of the `sizes` buckets
    that have enough deployments — "Deployments of 1 change fail 2.7% (…); of 16+ changes fail 17.3%
    (…)". `phrase` words each bucket ("of 1 change"). None when fewer than two buckets can be read."""
    readable = pooled[pooled["enough"] & pooled["bucket"].isin(sizes)]
    if len(readable) < 2:
        return None
    first, last = readable.iloc[0], readable.iloc[-1]
    return (f"Deployments {phrase[first.bucket]} fail {_rate_with_interval(first)}; "
            f"{phrase[last.bucket]} fail {_rate_with_interval(last)}.")


def pooled_figure(pooled: pd.DataFrame, labels: dict[str, str], *, colour: str, min_deployments: int,
                  height: int = 320) -> go.Figure:
    """The pooled change fail rate per bucket as a dot with its 95% Wilson interval; the bucket's
    deployments (and share) under its name. A bucket below `min_deployments` is a hollow grey mark on
    the baseline saying "too few" (its rate in the hover): shown, but neither read as a rate nor
    setting the scale. One trace per bucket, named by its label (customdata: [bucket])."""
    fig = go.Figure()
    for row in pooled.itertuples():  # one trace per bucket (a handful), each with its own colour
        name = labels.get(row.bucket, row.bucket)
        tick = f"{name}<br>{row.deployments:,} ({row.share_of_deployments:.0%})"
        shown = colour if row.enough else NEUTRAL
        defined = not is_missing(row.change_failure_rate)
        hover = (f"<b>{name}</b><br>{row.failed_deployments:,} of {row.deployments:,} deployments failed: "
                 + (f"{row.change_failure_rate:.1%} (95% interval {row.low:.1%}–{row.high:.1%})" if defined else "–")
                 + ("" if row.enough else f"<br>fewer than {min_deployments} deployments: too few to read"))
        if not row.enough:  # a hollow grey mark on the baseline: it neither reads as a rate nor sets the scale
            fig.add_trace(go.Scatter(
                x=[tick], y=[0], name=name, mode="markers+text", text=["too few"], textposition="top center",
                textfont=dict(color=NEUTRAL, size=11), marker=dict(color="white", size=10, line=dict(color=NEUTRAL, width=2)),
                customdata=[[row.bucket]], hovertemplate=hover + "<extra></extra>"))
            continue
        fig.add_trace(go.Scatter(
            x=[tick], y=[row.change_failure_rate * 100 if defined else None], name=name, mode="markers",
            marker=dict(color=shown, size=12, line=dict(color=shown, width=2)),
            error_y=dict(type="data", symmetric=False, color=shown, thickness=2, width=8,
                         array=[(row.high - row.change_failure_rate) * 100 if defined else None],
                         arrayminus=[(row.change_failure_rate - row.low) * 100 if defined else None]),
            customdata=[[row.bucket]], hovertemplate=hover + "<extra></extra>",
        ))
    _layout(fig, height=height, x_title="bucket · deployments (share)", y_title="change fail rate (%)")
    return fig
