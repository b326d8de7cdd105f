"""Chart builders: pure functions of DataFrames that return Plotly figures (no Streamlit, no I/O).

Every figure follows the same rules, so they can be tested on small frames: a metric keeps its colour
from `catalog.COLOURS` everywhere, every axis names its unit, every mark has a hover text with its
value formatted for people, and every selectable mark carries `customdata` saying which records it
stands for (the period, the service, …) so a page can list them when it is clicked.
"""
from __future__ import annotations

import math
from datetime import date, datetime
from typing import Sequence

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.catalog import (
    ANNOTATION, COLOURS, GRAIN_AXIS, OKABE_ITO, axis_title, axis_unit, format_duration_minutes,
    format_value, is_missing, plot_value,
)
from metrics.registry import Metric

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
            showlegend: bool = False) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, font=FONT, hoverlabel=HOVER, showlegend=showlegend,
        margin=dict(l=10, r=10, t=40, b=10), hovermode="closest", dragmode=False,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, xanchor="left", x=0),
    )
    if x_title is not None:
        fig.update_xaxes(title_text=x_title)
    if y_title is not None:
        fig.update_yaxes(title_text=y_title)
    fig.update_yaxes(rangemode="tozero", zeroline=True, zerolinecolor="#DDDDDD")
    return fig


LOG_TICKS = [m * 10.0 ** e for e in range(-3, 6) for m in (1, 2, 5)]


def log_axis(fig: go.Figure) -> None:
    """A log y axis labelled at 1-2-5 steps (plain numbers), instead of Plotly's crowded minor digits."""
    fig.update_yaxes(type="log", rangemode="normal", tickvals=LOG_TICKS, ticktext=[f"{v:g}" for v in LOG_TICKS])


def _hover_rows(frame: pd.DataFrame, metric: Metric, grain: str) -> list[list]:
    """customdata per point: [period_start ISO, service, period label, value text, count text]."""
    rows = []
    counts = frame[metric.count_column] if metric.count_column in frame else [None] * len(frame)
    for start, service, value, count in zip(frame["period_start"], frame["service"], frame[metric.column], counts):
        count_text = "" if is_missing(count) else f"{int(count):,} {metric.count_label}"
        rows.append([pd.Timestamp(start).date().isoformat(), service, period_label(grain, start),
                     format_value(metric, value), count_text])
    return rows


def _text(value, default: str) -> str:
    """A text cell, or `default` where it is missing (None or NaN, as pandas may give either)."""
    return value if isinstance(value, str) and value else default


def add_annotations(fig: go.Figure, annotations: pd.DataFrame | None) -> None:
    """Dated process changes as labelled vertical markers (columns: `starts_on`, `name`).

    Labels sit above the plot in staggered rows, so they cover no data and neighbours do not
    overprint; a long name is shortened on the chart and shown whole on hover.
    """
    if annotations is None or annotations.empty:
        return
    rows = min(4, len(annotations))
    for i, (on, name) in enumerate(zip(annotations["starts_on"], annotations["name"])):
        x = pd.Timestamp(on)
        fig.add_shape(type="line", x0=x, x1=x, y0=0, y1=1, yref="paper", xref="x",
                      line=dict(color=ANNOTATION, width=1, dash="dot"))
        label = name if len(name) <= 30 else name[:29] + "…"
        fig.add_annotation(x=x, y=1.0, yref="paper", xref="x", text=label, hovertext=f"{x:%Y-%m-%d}: {name}",
                           showarrow=False, xanchor="left", yanchor="bottom", yshift=4 + 17 * (i % rows),
                           font=dict(size=11, color=ANNOTATION), bgcolor="rgba(255,255,255,0.85)")
    top = fig.layout.margin.t if fig.layout.margin.t is not None else 40
    fig.update_layout(margin=dict(t=max(top, 30 + 17 * rows)))
    if fig.layout.showlegend:  # the legend moves below the plot to leave the top to the labels
        fig.update_layout(legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0))


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
        x=pd.to_datetime(frame["period_start"]), y=y, mode="lines+markers", name=metric.name,
        line=dict(color=colour, width=2.5), marker=dict(color=colour, size=8),
        connectgaps=False, customdata=_hover_rows(frame, metric, grain),
        hovertemplate="<b>%{customdata[2]}</b><br>" + metric.name
                      + ": %{customdata[3]}<br>%{customdata[4]}<extra>%{customdata[1]}</extra>",
    ))
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=axis_title(metric))
    if log_y:
        log_axis(fig)
    add_annotations(fig, annotations)
    return fig


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
            x=pd.to_datetime(part["period_start"]), y=[plot_value(metric, v) for v in part[metric.column]],
            mode="lines+markers", name=service, line=dict(color=colour, width=2),
            marker=dict(color=colour, size=5), connectgaps=False,
            customdata=_hover_rows(part, metric, grain),
            hovertemplate="<b>%{customdata[1]}, %{customdata[2]}</b><br>" + metric.name
                          + ": %{customdata[3]}<br>%{customdata[4]}<extra></extra>",
        ), row=i // columns + 1, col=i % columns + 1)
    _layout(fig, height=60 + 190 * rows, x_title=None, y_title=None)
    fig.update_yaxes(matches="y")  # one scale for every service, so the charts compare at a glance
    if log_y:
        log_axis(fig)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text=axis_unit(metric), row=r, col=1)
    for c in range(1, columns + 1):
        fig.update_xaxes(title_text=GRAIN_AXIS[grain], row=rows, col=c)
    fig.update_annotations(font_size=13)  # the subplot titles
    return fig


def deployments_figure(frame: pd.DataFrame, grain: str, *, annotations: pd.DataFrame | None = None,
                       height: int = 320) -> go.Figure:
    """Deployments per period as stacked bars: those that failed (fail-rate colour) on the others."""
    frame = frame.sort_values("period_start")
    x = pd.to_datetime(frame["period_start"])
    failed = frame["failed_deployments"].fillna(0).astype(int)
    ok = frame["deployments"].fillna(0).astype(int) - failed
    labels = [period_label(grain, s) for s in frame["period_start"]]
    custom = [[pd.Timestamp(s).date().isoformat(), svc, lab, int(d), int(f)]
              for s, svc, lab, d, f in zip(frame["period_start"], frame["service"], labels,
                                           frame["deployments"].fillna(0), failed)]
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
            fig.add_trace(go.Bar(x=x, y=y, name=name, marker_color=colour, customdata=custom, hovertemplate=hover))
    fig.update_layout(barmode="stack", bargap=0.15)
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=f"deployments per {grain}", showlegend=True)
    add_annotations(fig, annotations)
    return fig


MAX_BARS = 120  # periods a bar chart draws as bars; more are drawn as stacked areas
MAX_BOX_POINTS = 20_000  # values a box plot takes as they are; beyond, it gets their statistics


SEVERITY_SYMBOLS = ["circle", "diamond", "square", "triangle-up", "x", "star"]


def incidents_figure(incidents: pd.DataFrame, *, colour: str = OKABE_ITO["sky"], height: int = 340) -> go.Figure:
    """Each resolved incident as a point: when it started (x) and how long recovery took (y, minutes).

    Marker shape tells severities apart (colour stays the metric's); unresolved incidents have no
    recovery time and are listed, not plotted.
    """
    resolved = incidents[incidents["recovery_minutes"].notna()].copy()
    fig = go.Figure()
    severities = sorted(resolved["severity"].fillna("unknown").unique()) if not resolved.empty else []
    for i, severity in enumerate(severities):
        part = resolved[resolved["severity"].fillna("unknown") == severity]
        custom = [[iid, _text(svc, "no service"), format_duration_minutes(m), _text(dep, "none")]
                  for iid, svc, m, dep in zip(part["incident_id"], part["service"], part["recovery_minutes"],
                                               part["attributed_to"])]
        fig.add_trace(go.Scatter(
            x=part["started_at"], y=part["recovery_minutes"], mode="markers", name=f"severity {severity}",
            marker=dict(color=colour, size=9, symbol=SEVERITY_SYMBOLS[i % len(SEVERITY_SYMBOLS)],
                        line=dict(color="#333333", width=0.5)),
            customdata=custom,
            hovertemplate="<b>%{customdata[0]}</b> (%{customdata[1]})<br>started %{x|%Y-%m-%d %H:%M} UTC<br>"
                          "recovered in %{customdata[2]}<br>attributed to: %{customdata[3]}<extra></extra>",
        ))
    _layout(fig, height=height, x_title="incident start (UTC)", y_title="recovery time (minutes)",
            showlegend=len(severities) > 1)
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
                  height: int = 340, annotations: pd.DataFrame | None = None, log_y: bool = False) -> go.Figure:
    """Several series of one measure over time (stages, buckets, outcomes): lines with a marker symbol
    and dash per series, or stacked bars. `frame` is long (period_start, service, `series`, `value`,
    `count`); customdata per point: [period ISO, service, period label, value text, count text,
    series, *extra]."""
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
        custom = [[pd.Timestamp(p).date().isoformat(), svc, period_label(grain, p), t,
                   "" if is_missing(c) else f"{int(c):,} {count_label}", key, *[e[j] for e in extras]]
                  for j, (p, svc, t, c) in enumerate(zip(part["period_start"], part["service"], texts, counts))]
        common = dict(x=pd.to_datetime(part["period_start"]), y=y, name=label, customdata=custom,
                      hovertemplate="<b>%{customdata[2]}</b> · " + label
                                    + "<br>%{customdata[3]}<br>%{customdata[4]}<extra></extra>")
        if kind == "bar":
            fig.add_trace(go.Bar(marker_color=colours[key], **common))
        else:
            fig.add_trace(go.Scatter(
                mode="lines+markers", connectgaps=False,
                line=dict(color=colours[key], width=2.5, dash=DASHES[i % len(DASHES)]),
                marker=dict(color=colours[key], size=8, symbol=SERIES_SYMBOLS[i % len(SERIES_SYMBOLS)],
                            line=dict(color="#333333", width=0.5)),
                **common))
    if kind == "bar":
        fig.update_layout(barmode="stack", bargap=0.15, legend_traceorder="normal")
    _layout(fig, height=height, x_title=GRAIN_AXIS[grain], y_title=unit, showlegend=True)
    if log_y:
        log_axis(fig)
    add_annotations(fig, annotations)
    return fig


def budget_line(fig: go.Figure, minutes: float, label: str) -> go.Figure:
    """A horizontal reference line (the CI budget) with its label."""
    fig.add_hline(y=minutes, line=dict(color=ANNOTATION, width=1.5, dash="dash"),
                  annotation_text=label, annotation_position="top left", annotation_font_size=12)
    return fig


def distribution_figure(samples: dict[str, pd.Series], *, unit: str, colours: dict[str, str],
                        log_y: bool = True, height: int = 360) -> go.Figure:
    """Box plots side by side (one per sample), outliers shown, on one axis with its unit."""
    fig = go.Figure()
    for name, values in samples.items():
        values = pd.Series(values, dtype=float).dropna()
        if log_y:
            values = values[values > 0]  # a log axis has no place for zero: the caption says so
        if len(values) <= MAX_BOX_POINTS:
            fig.add_trace(go.Box(y=values, name=name, marker_color=colours[name], boxpoints="outliers",
                                 hovertemplate="%{y:,.2f} " + unit + "<extra>" + name + "</extra>"))
            continue
        # Millions of values: the box's statistics, computed here over all of them (the same rule as
        # Plotly's: quartiles, whiskers to the furthest value within 1.5 × IQR), not the values themselves.
        q1, median, q3 = values.quantile([0.25, 0.5, 0.75]).tolist()
        iqr = q3 - q1
        low = values[values >= q1 - 1.5 * iqr].min()
        high = values[values <= q3 + 1.5 * iqr].max()
        fig.add_trace(go.Box(x=[name], q1=[q1], median=[median], q3=[q3], lowerfence=[low], upperfence=[high],
                             name=name, marker_color=colours[name], boxpoints=False))
    _layout(fig, height=height, x_title=None, y_title=unit)
    if log_y:
        log_axis(fig)
    return fig


def panels_figure(frame: pd.DataFrame, *, panel: str, panels: Sequence[str], value: str, count: str | None,
                  count_label: str, grain: str, unit: str, colour: str, value_format, columns: int = 3,
                  log_y: bool = False) -> go.Figure:
    """One small chart per panel (a pipeline stage …) of one measure, one colour, one shared scale."""
    panels = list(panels)
    rows = max(1, math.ceil(len(panels) / columns))
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes=True, subplot_titles=panels,
                        vertical_spacing=0.12 / max(1, rows - 1) + 0.06, horizontal_spacing=0.05)
    for i, name in enumerate(panels):
        part = frame[frame[panel] == name].sort_values("period_start")
        counts = part[count].tolist() if count else [None] * len(part)
        custom = [[pd.Timestamp(p).date().isoformat(), svc, period_label(grain, p),
                   "–" if is_missing(v) else value_format(v), "" if is_missing(c) else f"{int(c):,} {count_label}"]
                  for p, svc, v, c in zip(part["period_start"], part["service"], part[value], counts)]
        fig.add_trace(go.Scatter(
            x=pd.to_datetime(part["period_start"]), y=[None if is_missing(v) else v for v in part[value]],
            mode="lines+markers", name=name, line=dict(color=colour, width=2), marker=dict(color=colour, size=5),
            connectgaps=False, customdata=custom,
            hovertemplate="<b>" + name + ", %{customdata[2]}</b><br>%{customdata[3]}<br>%{customdata[4]}"
                          "<extra></extra>",
        ), row=i // columns + 1, col=i % columns + 1)
    _layout(fig, height=60 + 170 * rows, x_title=None, y_title=None)
    fig.update_yaxes(matches="y")
    if log_y:
        log_axis(fig)
    for r in range(1, rows + 1):
        fig.update_yaxes(title_text=unit, row=r, col=1)
    fig.update_annotations(font_size=13)
    return fig
