"""The quarterly review pack: one self-contained HTML file for a quarter (`dora report`, and the
dashboard's "Download the quarterly review" button — both call build_review).

The file opens offline and forever: Plotly's script is inlined once, there is no CDN, font, style
sheet or image to fetch, and the quarter's CSVs travel inside it as data: links. Every number comes
from the metrics layer exactly as `dora export` computes it (the attached CSVs are byte for byte
what `dora export --grain quarter --from <first day> --to <last day>` writes), every figure and
table names the definitions version that produced it, and every text that comes from the data (a
service, an annotation, a verdict's line) is HTML-escaped: a service named `<script>` is text here.
"""
from __future__ import annotations

import base64
import html
import io
import math
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

import duckdb
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from core.errors import DoraError
from core.sql import run_sql
from dashboard import charts
from dashboard.catalog import COLOURS, NEUTRAL, OKABE_ITO, format_value
from metrics import compare, stats, story
from metrics.build import DEFINITIONS_VERSION, MetricSettings
from metrics.export import Filters, environment_group, query_table, write_csv
from metrics.filters import Team
from metrics.registry import PERIOD_METRICS, get_metric

__all__ = ["Quarter", "build_review", "default_quarter", "last_complete_quarter", "parse_quarter", "review_file_name"]

_QUARTER = re.compile(r"^\s*(\d{4})\s*-?\s*[Qq]([1-4])\s*$")
MIN_BUCKET_DEPLOYMENTS = 20  # a batch-size bucket with fewer deployments is drawn grey: its rate says little
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True,
                 "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d"]}
VERDICT_CLASSES = {compare.IMPROVED: "improved", compare.WORSE: "worse", compare.NOISE: "noise",
                   compare.NOT_ENOUGH: "unknown"}
VERDICT_MARKS = {compare.IMPROVED: "▲ ", compare.WORSE: "▼ ", compare.NOISE: "≈ ", compare.NOT_ENOUGH: "? "}


@dataclass(frozen=True)
class Quarter:
    """A calendar quarter, e.g. Quarter(2026, 3) is 2026-07-01..2026-09-30."""

    year: int
    number: int

    @property
    def start(self) -> date:
        return date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> date:
        return self.next().start - timedelta(days=1)

    @property
    def label(self) -> str:
        return f"{self.year} Q{self.number}"

    @property
    def code(self) -> str:
        """As `--quarter` takes it and file names carry it: 2026Q3."""
        return f"{self.year}Q{self.number}"

    def previous(self) -> "Quarter":
        return Quarter(self.year - 1, 4) if self.number == 1 else Quarter(self.year, self.number - 1)

    def next(self) -> "Quarter":
        return Quarter(self.year + 1, 1) if self.number == 4 else Quarter(self.year, self.number + 1)

    def window(self) -> compare.Window:
        return compare.Window(self.start, self.end, self.label)


def parse_quarter(text: str) -> Quarter:
    """`2026Q3` (also `2026-Q3`, `2026q3`) as a Quarter; an error naming the form otherwise."""
    match = _QUARTER.match(text or "")
    if not match:
        raise DoraError(f"quarter {text!r} is not YEARQn, e.g. 2026Q3")
    return Quarter(int(match.group(1)), int(match.group(2)))


def quarter_of(day: date) -> Quarter:
    """The quarter that holds `day`."""
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def default_quarter(today: date, last_day: date | None) -> Quarter:
    """The last complete quarter: the one before `today`'s; if the data ends before it, the last
    quarter the data reaches (a review of a warehouse loaded long ago is still of its data)."""
    complete = quarter_of(today).previous()
    if last_day is not None and last_day < complete.start:
        return quarter_of(last_day)
    return complete


def last_complete_quarter(settings: MetricSettings, last_day: date | None) -> Quarter:
    """default_quarter as of today in the configured time zone."""
    return default_quarter(datetime.now(ZoneInfo(settings.timezone)).date(), last_day)


def review_file_name(quarter: Quarter, service: str | None = None) -> str:
    """The file name the dashboard offers: dora-review-2026Q3.html (or …-2026Q3-payments.html; a
    team's name in place of the service's for a team)."""
    safe = re.sub(r"[^A-Za-z0-9_-]+", "-", service).strip("-") if service else ""
    return f"dora-review-{quarter.code}{'-' + safe if safe else ''}.html"


def read_coverage(con: duckdb.DuckDBPyConnection) -> tuple[date, date] | None:
    """First and last day the warehouse covers (definitions v2 "coverage"), or None with no events."""
    rows = run_sql(con, "metrics", "read_coverage").fetchall()
    if not rows or rows[0][0] is None:
        return None
    return rows[0][0], rows[0][1]


def read_built_at(con: duckdb.DuckDBPyConnection) -> datetime | None:
    """When the snapshot's metrics were built: the report's "data as of" (not the wall clock, so the
    same snapshot always gives the same file)."""
    rows = run_sql(con, "dashboard", "status_build").fetchall()
    return rows[0][0] if rows else None


# --- HTML pieces ----------------------------------------------------------------------------------

def esc(value) -> str:
    """Any value as HTML text: escaped, '–' where missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return "–"
    return html.escape(str(value), quote=True)


def versioned(caption: str) -> str:
    """A figure's or table's caption, ending with the definitions version that produced it."""
    return f'{caption} <span class="version">Definitions version {esc(DEFINITIONS_VERSION)}.</span>'


def html_table(headers: list[str], rows: list[list[str]], caption: str, *, numeric: set[int] = frozenset(),
               row_classes: list[str] | None = None) -> str:
    """A table whose cells are already HTML (callers escape data with esc), with a versioned caption."""
    head = "".join(f'<th{" class=num" if i in numeric else ""}>{h}</th>' for i, h in enumerate(headers))
    body = []
    for r, row in enumerate(rows):
        klass = f' class="{row_classes[r]}"' if row_classes and row_classes[r] else ""
        cells = "".join(f'<td{" class=num" if i in numeric else ""}>{c}</td>' for i, c in enumerate(row))
        body.append(f"<tr{klass}>{cells}</tr>")
    return (f'<div class="table-wrap"><table data-definitions-version="{esc(DEFINITIONS_VERSION)}">'
            f"<caption>{versioned(caption)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


class Figures:
    """Numbers the report's Plotly figures (stable element ids, so one snapshot gives one file)."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, fig: go.Figure, caption: str) -> str:
        """One figure as a <figure>: the chart (Plotly's script is in the page head) and its caption."""
        self.count += 1
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"figure-{self.count}",
                          config=PLOTLY_CONFIG)
        return (f'<figure data-definitions-version="{esc(DEFINITIONS_VERSION)}">{div}'
                f"<figcaption>{versioned(caption)}</figcaption></figure>")


def note(text: str) -> str:
    """A paragraph saying why a section shows nothing (the metrics layer's own words)."""
    return f'<p class="note">{esc(text)}</p>'


def verdict_cell(verdict: str, short: str | None = None) -> str:
    """A verdict as a word with a mark and a class for its colour: never colour alone. `short`: the
    word shown where space is tight, the whole verdict then on hover."""
    title = f' title="{esc(verdict)}"' if short else ""
    return (f'<span class="verdict {VERDICT_CLASSES.get(verdict, "unknown")}"{title}>'
            f'{VERDICT_MARKS.get(verdict, "")}{esc(short or verdict)}</span>')


# --- sections -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What one review is of: the organisation, one service, or a team of dora.toml (`team`, its
    services' facts together: `compared` is metrics.compare's scope for the comparisons and story)."""

    quarter: Quarter
    service: str | None
    environment: str
    settings: MetricSettings
    compared: compare.Scope = compare.Scope()
    teams: tuple[Team, ...] = ()

    @property
    def team(self) -> str | None:
        return self.compared.team

    @property
    def name(self) -> str:
        if self.team is not None:
            return f"team {self.team}"
        return "all services" if self.service is None else f"service {self.service}"

    def filters(self, grain: str = "quarter", **changes) -> Filters:
        return Filters(grain=grain, from_date=self.quarter.start, to_date=self.quarter.end,
                       service=self.service, team=self.team, teams=self.teams, environment=self.environment,
                       **changes)


def section_numbers(summary: pd.DataFrame, scope: Scope) -> str:
    """The quarter's figures, exactly as `dora export --grain quarter` computes them."""
    row = summary.iloc[0]
    rows = [[esc(m.label), esc(format_value(m, row[m.column])),
             esc(f"{int(row[m.count_column]):,} {m.count_label}" if m.count_column in row
                 and not pd.isna(row[m.count_column]) else "–")] for m in PERIOD_METRICS]
    observed = int(row["observed_days"])
    return ("<h2 id=numbers>The quarter in numbers</h2>"
            + html_table(["Metric", scope.quarter.label, "Based on"], rows,
                         f"{esc(scope.quarter.label)}, {esc(scope.name)}, {esc(scope.environment)}; rates per "
                         f"day divide by the {observed} observed days. Source: <code>dora export --grain quarter"
                         "</code> (attached below).", numeric={1, 2}))


def format_interval(row: pd.Series) -> str:
    """A compared metric's interval as the CLI writes it: × for ratios, points for shares."""
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return "–"
    if "ratio" in row["estimate_kind"]:
        return f"×{row['ci_low']:.3g} to ×{row['ci_high']:.3g}"
    if row["unit"] == "share":
        return f"{row['ci_low'] * 100:+.1f} to {row['ci_high'] * 100:+.1f} pts"
    return f"{row['ci_low']:+.3g} to {row['ci_high']:+.3g}"


def format_compared(metric_id: str, unit: str, value) -> str:
    """A compared value for people: the registry's metrics as the dashboard writes them."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–" if value is None or math.isnan(value) else "∞"
    try:
        return format_value(get_metric(metric_id), value)
    except KeyError:  # the story's figures that are no metric of their own (p90, CI time, …)
        return compare.format_amount(value, unit)


def comparison_table(frame: pd.DataFrame, before_name: str, after_name: str, caption: str) -> str:
    """One before/after comparison (metrics.compare) as a table, each verdict's line below it."""
    rows, classes = [], []
    for row in frame.to_dict("records"):
        row = pd.Series(row)
        change = ("–" if pd.isna(row["relative_change"]) or row["unit"] == "share"
                  else f"{row['relative_change']:+.0%}")
        if row["unit"] == "share" and not pd.isna(row["absolute_change"]):
            change = f"{row['absolute_change'] * 100:+.1f} pts"
        rows.append([esc(row["label"]), esc(format_compared(row["metric"], row["unit"], row["before_value"])),
                     esc(format_compared(row["metric"], row["unit"], row["after_value"])), esc(change),
                     esc(format_interval(row)), verdict_cell(row["verdict"])])
        classes.append(VERDICT_CLASSES.get(row["verdict"], ""))
    first = frame.iloc[0]
    windows = (f"{esc(before_name)}: {first['before_start']:%Y-%m-%d}..{first['before_end']:%Y-%m-%d} "
               f"({int(first['before_days'])} days); {esc(after_name)}: {first['after_start']:%Y-%m-%d}.."
               f"{first['after_end']:%Y-%m-%d} ({int(first['after_days'])} days), both clipped to the days "
               "with data.")
    lines = "".join(f"<li>{esc(line)}</li>" for line in frame["explanation"])
    level = f"{first['confidence']:.0%}"
    return (html_table(["Metric", esc(before_name), esc(after_name), "Change", f"{level} interval", "Verdict"],
                       rows, f"{caption} {windows} Verdicts: improved or worse only when the change is clear of "
                       "the data's own variation, Holm-adjusted across the metrics (docs/metrics.md).",
                       numeric={1, 2, 3, 4}, row_classes=classes)
            + f"<details><summary>Each verdict in one line</summary><ul class=lines>{lines}</ul></details>")


def compare_quarter(con: duckdb.DuckDBPyConnection, scope: Scope, before: compare.Window,
                    specs: tuple = compare.METRICS) -> pd.DataFrame:
    """`before` against the quarter, every metric of `specs`, with the quarter's window as after."""
    return compare.compare_windows(con, before, scope.quarter.window(), scope.settings, scope.compared,
                                   scope.environment, specs=specs)


def find_baseline(con: duckdb.DuckDBPyConnection, scope: Scope) -> compare.Window:
    """The baseline: the days with data before the first annotation that applies to the scope."""
    annotations = compare.query_annotations(con, scope.compared, every_service=False)
    if annotations.empty:
        raise DoraError("no annotation marks a process change yet, so there is no baseline: add one "
                        "(`dora annotate add NAME --date D`)")
    first = annotations.iloc[0]
    window = compare.window_before_annotation(con, str(first["id"]), scope.settings, scope.compared)
    return compare.Window(window.start, window.end, f"baseline (before {first['name']})")


def section_comparisons(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, list[tuple[str, str, pd.DataFrame]]]:
    """The quarter against the previous quarter and against the baseline; the frames for the CSVs."""
    parts, frames = ["<h2 id=compare>Against the previous quarter and the baseline</h2>"], []
    previous = scope.quarter.previous()
    # (how to find the before window, the words before its label, the CSV's name, what a failure names)
    comparisons = ((previous.window, "", "compare-previous-quarter", previous.label),
                   (lambda: find_baseline(con, scope), "the ", "compare-baseline", "the baseline"))
    for find_before, the, name, missing in comparisons:
        try:
            before = find_before()
            frame = compare_quarter(con, scope, before)
            against = f"{scope.quarter.label} against {the}{before.label}"
            parts.append(comparison_table(frame, before.label, scope.quarter.label,
                                          f"{esc(against)}, {esc(scope.name)}."))
            frames.append((name, against, frame))
        except DoraError as exc:
            parts.append(note(f"No comparison with {missing}: {exc}"))
    return "".join(parts), frames


def format_versus(value, estimate_kind: str, unit: str) -> str:
    """A phase's change against the baseline as the story states it: × for ratios, points for shares."""
    if value is None or pd.isna(value):
        return ""
    if "ratio" in estimate_kind:
        return f"×{value:.2g}"
    if unit == "share":
        return f"{value * 100:+.1f} pts"
    return f"{value:+,.0f}" if abs(value) >= 100 else f"{value:+.3g}"


# A story cell holds a value and its verdict: the verdict in a short word (the whole one on hover).
SHORT_VERDICTS = {compare.NOISE: "noise", compare.NOT_ENOUGH: "too little data"}


def section_story(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[str, list[tuple[str, str, pd.DataFrame]]]:
    """The phase story up to the quarter's end (metrics.story): the baseline and every phase the
    annotations start, each metric's value in each, and each phase against the baseline."""
    heading = "<h2 id=story>The story so far</h2>"
    try:
        long = story.query_story_long(con, scope.settings, scope.compared, scope.environment,
                                      limits=(None, scope.quarter.end))
    except DoraError as exc:
        return heading + note(f"No story table: {exc}"), []
    windows = long.drop_duplicates("window")[["window", "start", "end", "days"]].to_dict("records")
    headers = ["Metric"] + [f"{esc(w['window'])}<br><small>{w['start']:%Y-%m-%d}..{w['end']:%Y-%m-%d}</small>"
                            for w in windows]
    rows = []
    for metric, part in long.groupby("metric", sort=False):
        cells = [esc(part["label"].iloc[0])]
        for row in part.to_dict("records"):
            cell = esc(format_compared(metric, row["unit"], row["value"]))
            if row["window"] != story.BASELINE:
                versus = format_versus(row["vs_baseline"], row["estimate_kind"], row["unit"])
                cell += f"<br>{verdict_cell(row['verdict'], SHORT_VERDICTS.get(row['verdict']))} <small>{esc(versus)}</small>"
            cells.append(cell)
        rows.append(cells)
    table = html_table(headers, rows, (
        f"{esc(scope.name)}, {esc(scope.environment)}: the baseline (the days with data before the first "
        "annotation) and each phase an annotation starts, up to the end of "
        f"{esc(scope.quarter.label)}; each phase against the baseline with its verdict (Holm-adjusted across "
        "that phase's metrics). Source: <code>dora story</code>, <code>dora export --table story</code>."),
        numeric=set(range(1, len(headers))))
    lines = "".join(f"<li>{esc(line)}</li>" for line in long["explanation"].dropna())
    return (heading + table + f"<details><summary>Each verdict in one line</summary><ul class=lines>{lines}</ul>"
            "</details>", [("story", "the story table up to the quarter's end", story.pivot_story(long))])


def quarter_band(fig: go.Figure, quarter: Quarter) -> go.Figure:
    """Shade the reviewed quarter on a time chart."""
    fig.add_vrect(x0=pd.Timestamp(quarter.start), x1=pd.Timestamp(quarter.next().start),
                  fillcolor=OKABE_ITO["orange"], opacity=0.12, line_width=0, layer="below")
    return fig


def section_trends(monthly: pd.DataFrame, annotations: pd.DataFrame, scope: Scope, figures: Figures) -> str:
    """Every delivery metric by month from the first month with data to the quarter's end, with the
    annotations marked and the quarter shaded."""
    scope_rows = monthly[monthly["service"] == (scope.service or "all")]
    parts = ["<h2 id=trends>Trends</h2>",
             f"<p>By month, {esc(scope.name)}; the reviewed quarter is shaded, dotted lines mark the "
             "annotated process changes. Durations on a log scale.</p>"]
    fig = quarter_band(charts.deployments_figure(scope_rows, "month", annotations=annotations), scope.quarter)
    parts.append(figures.render(fig, "Deployments per month, and those that failed (rolled back or caused an "
                                     "incident). Source: <code>dora export --grain month</code>."))
    for metric in PERIOD_METRICS:
        fig = charts.trend_figure(scope_rows, metric, "month", annotations=annotations,
                                  log_y=metric.unit in ("hours", "minutes"), height=320)
        parts.append(figures.render(quarter_band(fig, scope.quarter),
                                    f"{esc(metric.label)} by month. {esc(metric.definition)}"))
    return "".join(parts)


def section_levels(levels: pd.DataFrame, scope: Scope) -> str:
    """The quarter's DORA level and Quick Check score per metric."""
    parts = ["<h2 id=levels>DORA levels</h2>"]
    if levels.empty:
        return "".join(parts) + note("No levels for this quarter.")
    rows = []
    for row in levels.to_dict("records"):
        metric = get_metric(row["metric"])
        level = row["level"] if isinstance(row["level"], str) else None
        score = "–" if pd.isna(row["quickcheck_score"]) else f"{row['quickcheck_score']:.1f}"
        bench = "–" if pd.isna(row["benchmark_2025_score"]) else f"{row['benchmark_2025_score']:.1f}"
        rows.append([esc(metric.label), esc(format_value(metric, row["value"])),
                     f'<span class="level {esc(level or "none")}">{esc(level or "no level")}</span>',
                     esc(str(row["level_rule"]).replace("_", " ")), esc(score), esc(bench)])
    report = levels["report"].iloc[0]
    return "".join(parts) + html_table(
        ["Metric", "Value", "Level", "How it was placed", "Quick Check score (0–10)", "2025 benchmark"], rows,
        f"Each metric on its own against the DORA {esc(report)} report's table, {esc(scope.quarter.label)}, "
        f"{esc(scope.name)}. Source: <code>dora export --table levels --grain quarter</code>.", numeric={1, 4, 5})


BATCH_DIMENSIONS = {"changes": "Changes per deployment", "lines": "Lines changed per deployment",
                    "cadence": "Deployments of the service that week"}


def batch_figure(part: pd.DataFrame, title: str) -> go.Figure:
    """Change fail rate by bucket with Wilson intervals; buckets below MIN_BUCKET_DEPLOYMENTS grey."""
    part = part[part["deployments"] > 0]
    intervals = [stats.wilson_interval(int(f), int(n)) for f, n in zip(part["failed_deployments"], part["deployments"])]
    rate = [i.estimate * 100 for i in intervals]
    few = part["deployments"] < MIN_BUCKET_DEPLOYMENTS
    fig = go.Figure(go.Bar(
        x=[str(b) for b in part["bucket"]], y=rate,
        marker_color=[NEUTRAL if f else COLOURS["change_failure_rate"] for f in few],
        error_y=dict(type="data", symmetric=False, color="#333333",
                     array=[(i.high - i.estimate) * 100 for i in intervals],
                     arrayminus=[(i.estimate - i.low) * 100 for i in intervals]),
        text=[f"{int(f)} of {int(n):,}" for f, n in zip(part["failed_deployments"], part["deployments"])],
        textposition="outside", cliponaxis=False,
        hovertemplate="<b>%{x}</b><br>change fail rate %{y:.1f}%<br>%{text} deployments failed<extra></extra>",
    ))
    fig.update_layout(template="plotly_white", height=300, font=charts.FONT, showlegend=False,
                      margin=dict(l=10, r=10, t=30, b=10), dragmode=False)
    fig.update_xaxes(title_text=title)
    fig.update_yaxes(title_text="change fail rate (%)", rangemode="tozero")
    return fig


def pool_services(batches: pd.DataFrame) -> pd.DataFrame:
    """A team's batch-size rows: its services' deployments and failures per bucket added up (counts
    add up; the table's medians do not, so they are left out), the change fail rate recomputed."""
    pooled = (batches.groupby(["dimension", "bucket"], sort=False, as_index=False)
              [["deployments", "failed_deployments"]].sum())
    rate = pooled["failed_deployments"] / pooled["deployments"].where(pooled["deployments"] > 0)
    return pooled.assign(change_failure_rate=rate, service="all")


def section_batch_size(batches: pd.DataFrame, scope: Scope, figures: Figures) -> str:
    """Change fail rate by batch size and cadence in the quarter, pooled over the quarter (and over a
    team's services)."""
    parts = ["<h2 id=batch-size>Batch size and risk</h2>"]
    if scope.team is not None and not batches.empty:
        batches = pool_services(batches)
    rows = batches[batches["service"] == (scope.service or "all")]
    if rows.empty:
        return "".join(parts) + note("No production deployments in the quarter.")
    for dimension, title in BATCH_DIMENSIONS.items():
        part = rows[rows["dimension"] == dimension]
        if part.empty or part["deployments"].sum() == 0:
            continue
        enough = part[part["deployments"] >= MIN_BUCKET_DEPLOYMENTS]
        if len(enough) >= 2:  # the pooled comparison leads: the smallest against the largest batches
            parts.append("<p>" + " ".join(
                f"{esc(title)} {esc(r['bucket'])}: {r['change_failure_rate']:.1%} failed "
                f"({int(r['failed_deployments'])} of {int(r['deployments']):,})."
                for r in (enough.iloc[0], enough.iloc[-1])) + "</p>")
        parts.append(figures.render(batch_figure(part, title), (
            f"Change fail rate by {esc(title.lower())}, {esc(scope.quarter.label)}, {esc(scope.name)}, with 95% "
            f"Wilson intervals (deployments counted as independent); buckets with fewer than "
            f"{MIN_BUCKET_DEPLOYMENTS} deployments in grey. Source: <code>dora export --table batch-size "
            "--grain quarter</code>.")))
    return "".join(parts)


def csv_text(frame: pd.DataFrame) -> str:
    """A frame as the export writes it (formula-like text cells neutralised: metrics.export.write_csv)."""
    out = io.StringIO()
    write_csv(frame, out)
    return out.getvalue()


def section_attachments(files: list[tuple[str, str, pd.DataFrame]], scope: Scope) -> str:
    """The quarter's CSVs inside the file: a download link (data: URI) and the text, for each."""
    items = []
    for name, about, frame in files:
        if "definitions_version" not in frame.columns:
            frame = frame.assign(definitions_version=DEFINITIONS_VERSION)
        text = csv_text(frame)
        file_name = f"dora-{scope.quarter.code}-{name}.csv"
        uri = "data:text/csv;charset=utf-8;base64," + base64.b64encode(text.encode("utf-8")).decode("ascii")
        items.append(f'<li><a download="{esc(file_name)}" href="{uri}">{esc(file_name)}</a> — {esc(about)}, '
                     f"{len(frame):,} rows<details><summary>show</summary><pre>{esc(text)}</pre></details></li>")
    return ("<h2 id=files>The quarter's CSV files</h2><p>As <code>dora export</code> writes them (UTF-8, a header "
            "row, cells a spreadsheet would run as a formula written with a leading <code>'</code>), each row "
            f"naming its definitions version ({esc(DEFINITIONS_VERSION)}).</p><ul class=files>{''.join(items)}</ul>")


def export_files(con: duckdb.DuckDBPyConnection, scope: Scope) -> tuple[list[tuple[str, str, pd.DataFrame]], list[str]]:
    """The quarter's export tables; a table the metrics layer cannot give for this scope is named
    with its reason instead."""
    # the summary first and unguarded: a scope without it (an unknown service) is the command's error
    files = [("summary", "the quarter's summary", query_table(con, "summary", scope.filters(), scope.settings))]
    wanted: list[tuple[str, str, Callable[[], pd.DataFrame]]] = [
        ("summary-by-month", "the summary by month",
         lambda: query_table(con, "summary", scope.filters("month"), scope.settings)),
    ]
    if scope.service is None:
        wanted.append(("summary-by-service", "the quarter's summary per service",
                       lambda: query_table(con, "summary", scope.filters(by_service=True), scope.settings)))
    wanted.append(("levels", "the quarter's levels table",
                   lambda: query_table(con, "levels", scope.filters(), scope.settings)))
    # no team figures in these (medians do not add up): a team's are per service of the team
    per_service = scope.team is not None
    for table in ("batch-size", "lead-time-breakdown", "pipeline", "quality"):
        wanted.append((table, f"the quarter's {table.replace('-', ' ')} table"
                       + (" per service of the team" if per_service else ""),
                       lambda table=table: query_table(con, table, scope.filters(by_service=per_service),
                                                       scope.settings)))
    missing = []
    for name, about, read in wanted:
        try:
            files.append((name, about, read()))
        except DoraError as exc:
            missing.append(f"{name}: {exc}")
    return files, missing


# --- the page -------------------------------------------------------------------------------------

STYLE = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1rem 1.5rem 4rem; color: #1f1f1f; line-height: 1.45; }
h1 { margin-bottom: 0.2rem; } h2 { margin-top: 2.5rem; border-bottom: 1px solid #ddd; padding-bottom: 0.2rem; }
.meta { color: #444; margin: 0.2rem 0; } nav a { margin-right: 0.9rem; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.93rem; min-width: 60%; }
caption { caption-side: bottom; text-align: left; color: #555; font-size: 0.85rem; padding-top: 0.3rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: 0.3rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } .num { text-align: right; font-variant-numeric: tabular-nums; }
.verdict { font-weight: 600; white-space: nowrap; }
.verdict.improved { color: #0072B2; } .verdict.worse { color: #B34700; } .verdict.noise, .verdict.unknown { color: #595959; }
.level { padding: 0.05rem 0.45rem; border-radius: 0.6rem; font-weight: 600; border: 1px solid #999; }
.level.elite { background: #d6e9f5; } .level.high { background: #d3f0e6; } .level.medium { background: #fbecc8; }
.level.low { background: #f6d9c6; }
figure { margin: 1.2rem 0; } figcaption { color: #555; font-size: 0.85rem; }
.version { white-space: nowrap; color: #333; }
.note { background: #f7f4e8; border-left: 4px solid #E69F00; padding: 0.4rem 0.8rem; }
ul.lines { font-size: 0.82rem; color: #333; } pre { font-size: 0.75rem; overflow-x: auto; background: #f7f7f7; padding: 0.5rem; }
@media print { nav, details { display: none; } figure { break-inside: avoid; } }
"""


def build_review(con: duckdb.DuckDBPyConnection, settings: MetricSettings, quarter: Quarter | None = None,
                 service: str | None = None, environment: str = "production", *, team: str | None = None,
                 teams: tuple[Team, ...] = ()) -> str:
    """The quarterly review of `quarter` (default: the last complete one) as one self-contained HTML page.

    `con` reads a built warehouse (the read snapshot); `service` None reviews the organisation, or
    `team` one of `teams` (dora.toml's; "no team": the services none owns) as a whole. An error
    (DoraError) when the quarter has no data in the scope; a section the data cannot fill (no
    annotation for a baseline, no previous quarter) says why in place.
    """
    coverage = read_coverage(con)
    if quarter is None:
        quarter = last_complete_quarter(settings, coverage[1] if coverage else None)
    environment = environment_group(environment, settings)
    compared = compare.choose_scope(con, settings, service, team, teams, environment)
    scope = Scope(quarter, service, environment, settings, compared, teams)
    files, missing = export_files(con, scope)
    summary = files[0][2]
    if summary.empty:
        span = f"the data covers {coverage[0]} to {coverage[1]}" if coverage else "no event is stored yet"
        raise DoraError(f"no data for {quarter.label} ({quarter.start}..{quarter.end}) in {scope.environment} "
                        f"for {scope.name}: {span}; choose another --quarter")
    tables = dict((name, frame) for name, _, frame in files)
    figures = Figures()
    annotations = compare.query_annotations(con, compared, every_service=False)
    monthly = query_table(con, "summary", replace(scope.filters("month"), from_date=None), settings)
    story, story_files = section_story(con, scope)
    comparisons, compare_files = section_comparisons(con, scope)
    built_at = read_built_at(con)
    observed = int(summary.iloc[0]["observed_days"])
    quarter_days = (quarter.end - quarter.start).days + 1
    subject = service or (f"team {scope.team}" if scope.team is not None else None)
    title = f"Delivery review {quarter.label}" + (f": {subject}" if subject else "")
    body = [
        f"<h1>{esc(title)}</h1>",
        f'<p class="meta">{esc(quarter.start)} to {esc(quarter.end)} ({esc(settings.timezone)}), '
        f"{esc(scope.name)}, {esc(scope.environment)}.</p>",
        f'<p class="meta">Coverage: {observed} of the quarter\'s {quarter_days} days observed'
        + (f"; the data covers {esc(coverage[0])} to {esc(coverage[1])}" if coverage else "")
        + (f"; metrics built {built_at:%Y-%m-%d %H:%M} UTC" if built_at is not None else "")
        + f'.</p><p class="meta">Definitions version {esc(DEFINITIONS_VERSION)} (docs/metrics.md); '
          "made with <code>dora report</code>.</p>",
        "<nav><a href=#numbers>Numbers</a><a href=#story>Story</a><a href=#compare>Comparisons</a>"
        "<a href=#trends>Trends</a><a href=#levels>Levels</a><a href=#batch-size>Batch size</a>"
        "<a href=#files>CSV files</a></nav>",
        section_numbers(summary, scope),
        story,
        comparisons,
        section_trends(monthly, annotations, scope, figures),
        section_levels(tables.get("levels", pd.DataFrame()), scope),
        section_batch_size(tables.get("batch-size", pd.DataFrame(columns=["service"])), scope, figures),
        section_attachments(files + story_files + compare_files, scope),
    ]
    if missing:
        body.append("<p class=note>Not attached: " + "; ".join(esc(m) for m in missing) + "</p>")
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{esc(title)}</title><style>{STYLE}</style>"
            f"<script>{get_plotlyjs()}</script></head>\n<body>{''.join(body)}</body></html>\n")
