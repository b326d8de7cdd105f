"""Chart builders and presentation helpers on small literal frames (no Streamlit, no database)."""
from __future__ import annotations

import io
import math
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from dashboard import charts
from dashboard.catalog import (
    COLOURS, NEUTRAL, OKABE_ITO, format_change, format_duration_minutes, format_value, judge_change,
)
from dashboard.ui import label_frame, to_csv
from metrics.build import DEFINITIONS_VERSION
from metrics.registry import METRICS_BY_ID, PERIOD_METRICS

NAN = float("nan")


def summary(rows: list[tuple]) -> pd.DataFrame:
    """Summary rows as metrics.export.query_summary returns them (only the columns the charts read)."""
    return pd.DataFrame(rows, columns=["period_start", "service", "deployments", "failed_deployments",
                                       "change_failure_rate", "deploys_per_day", "lead_time_median_hours",
                                       "changes_deployed"])


FRAME = summary([
    (pd.Timestamp("2026-05-01"), "all", 10, 2, 0.2, 10 / 31, 30.0, 12),
    (pd.Timestamp("2026-06-01"), "all", 0, 0, NAN, 0.0, NAN, 0),
    (pd.Timestamp("2026-04-01"), "all", 4, 1, 0.25, 4 / 30, 50.5, 5),
])


def test_every_metric_has_its_own_colour_unit_and_direction():
    assert len({COLOURS[m.id] for m in PERIOD_METRICS}) == len(PERIOD_METRICS)
    assert all(COLOURS[m.id] in OKABE_ITO.values() for m in PERIOD_METRICS)
    assert all(m.unit and m.better in ("higher", "lower") for m in PERIOD_METRICS)
    assert [m.id for m in PERIOD_METRICS if m.dora] == ["deployment_frequency", "lead_time", "change_failure_rate",
                                                        "failed_deployment_recovery_time", "deployment_rework_rate"]


def test_trend_figure_plots_rates_as_percent_in_period_order_with_gaps_for_undefined():
    spec = METRICS_BY_ID["change_failure_rate"]
    fig = charts.trend_figure(FRAME, spec, "month")
    trace = fig.data[0]
    # each period's point at its middle: April's 30 days, May's 31, June's 30
    assert list(pd.to_datetime(trace.x)) == [pd.Timestamp("2026-04-16"), pd.Timestamp("2026-05-16 12:00"),
                                            pd.Timestamp("2026-06-16")]
    assert list(trace.y) == [25.0, 20.0, None]  # June had no deployments: a gap, not 0 %
    assert trace.line.color == COLOURS[spec.id] and trace.connectgaps is False
    assert fig.layout.yaxis.title.text == "Change fail rate (%)"
    assert fig.layout.xaxis.title.text == "month"
    assert list(trace.customdata[0]) == ["2026-04-01", "all", "Apr 2026", "25.0%", "4 deployments"]
    assert "%{customdata[3]}" in trace.hovertemplate


def test_trend_figure_log_scale_and_annotations_as_labelled_markers():
    notes = pd.DataFrame({"starts_on": [date(2026, 5, 25)], "name": ["Phase 1: remove manual gates"]})
    fig = charts.trend_figure(FRAME, METRICS_BY_ID["lead_time"], "month", annotations=notes, log_y=True)
    assert fig.layout.yaxis.type == "log"
    assert fig.layout.yaxis.title.text == "Change lead time (log scale)"
    ticks = dict(zip(fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext))
    assert ticks[4.0] == "4 h" and ticks[24.0] == "1 day"  # hours stored, labelled as people say them
    assert [s.x0 for s in fig.layout.shapes] == [pd.Timestamp("2026-05-25")]
    assert [a.text for a in fig.layout.annotations] == ["Phase 1: remove manual gates"]


def test_small_multiples_one_panel_per_service_on_one_shared_scale():
    frame = summary([
        (pd.Timestamp("2026-04-01"), "payments", 3, 1, 1 / 3, 0.1, 40.0, 4),
        (pd.Timestamp("2026-04-01"), "search", 1, 0, 0.0, 1 / 30, 20.0, 1),
        (pd.Timestamp("2026-05-01"), "search", 2, 1, 0.5, 2 / 31, 10.0, 2),
    ])
    spec = METRICS_BY_ID["deployment_frequency"]
    fig = charts.small_multiples_figure(frame, spec, "month", ["search", "payments"], columns=2)
    assert [t.name for t in fig.data] == ["search", "payments"]
    assert [a.text for a in fig.layout.annotations] == ["search", "payments"]  # the panel titles
    assert {t.line.color for t in fig.data} == {COLOURS[spec.id]}
    assert fig.layout.yaxis2.matches == "y"
    assert fig.layout.yaxis.title.text == "deploys/day"
    assert [c[1] for c in fig.data[0].customdata] == ["search", "search"]


def test_deployments_figure_stacks_failed_on_the_rest():
    fig = charts.deployments_figure(FRAME, "month")
    ok, failed = fig.data
    assert list(ok.y) == [3, 8, 0] and list(failed.y) == [1, 2, 0]
    assert ok.marker.color == OKABE_ITO["blue"] and failed.marker.color == OKABE_ITO["vermillion"]
    assert fig.layout.barmode == "stack"
    assert fig.layout.yaxis.title.text == "deployments per month"
    assert list(ok.customdata[1][:3]) == ["2026-05-01", "all", "May 2026"]


def test_deployments_figure_draws_hundreds_of_periods_as_stacked_areas():
    days = pd.date_range("2025-01-01", periods=charts.MAX_BARS + 1, freq="D")
    frame = summary([(d, "all", 2, 1, 0.5, 2.0, 1.0, 1) for d in days])
    fig = charts.deployments_figure(frame, "day")
    assert [t.type for t in fig.data] == ["scatter", "scatter"]
    assert {t.stackgroup for t in fig.data} == {"deployments"}
    assert list(fig.data[0].y[:2]) == [1, 1] and list(fig.data[1].y[:2]) == [1, 1]


def test_incidents_figure_plots_resolved_incidents_with_a_shape_per_severity():
    incidents = pd.DataFrame({
        "incident_id": ["INC-1", "INC-2", "INC-3"], "service": ["payments", "search", None],
        "severity": ["sev2", "sev1", "sev2"],
        "started_at": pd.to_datetime(["2026-05-04 11:00", "2026-05-21 09:00", "2026-05-22 10:00"], utc=True),
        "recovery_minutes": [60.0, NAN, 30.0], "attributed_to": ["pay-4", "srch-2", None],
    })
    fig = charts.incidents_figure(incidents)
    assert [t.name for t in fig.data] == ["severity sev2"]  # INC-2 is unresolved: listed, not plotted
    assert list(fig.data[0].y) == [60.0, 30.0]
    assert list(fig.data[0].customdata[1]) == ["INC-3", "no service", "30 min", "none"]
    assert fig.layout.yaxis.title.text == "recovery time (minutes)"
    assert fig.layout.showlegend is False  # one severity plotted: a one-entry legend says nothing


def test_findings_figure_sorts_bars_and_carries_the_finding_code():
    counts = pd.DataFrame({"finding": ["a", "b"], "title": ["A things", "B things"], "count": [5, 2]})
    fig = charts.findings_figure(counts)
    assert list(fig.data[0].y) == ["B things", "A things"]
    assert [c[0] for c in fig.data[0].customdata] == ["b", "a"]
    assert fig.layout.xaxis.title.text == "records (count)"


def test_sparkline_values_take_the_last_periods_and_skip_undefined():
    assert charts.sparkline_values(FRAME, METRICS_BY_ID["change_failure_rate"]) == [25.0, 20.0]
    assert charts.sparkline_values(FRAME, METRICS_BY_ID["deployment_frequency"], last=1) == [0.0]


@pytest.mark.parametrize("grain, expected", [
    ("day", "Mon 2026-05-04"), ("week", "week of 2026-05-04"), ("month", "May 2026"), ("quarter", "2026 Q2"),
])
def test_period_labels(grain, expected):
    assert charts.period_label(grain, date(2026, 5, 4)) == expected


@pytest.mark.parametrize("minutes, text", [
    (0.5, "30 s"), (3.04, "3.0 min"), (45.4, "45 min"), (89.9, "90 min"), (90, "1.5 h"), (47.9 * 60, "47.9 h"),
    (120 * 60, "5.0 days"), (NAN, "–"), (None, "–"),
])
def test_durations_read_like_people_say_them(minutes, text):
    assert format_duration_minutes(minutes) == text


def test_values_changes_and_verdicts():
    freq, cfr, lead = (METRICS_BY_ID[k] for k in ("deployment_frequency", "change_failure_rate", "lead_time"))
    assert format_value(freq, 19.2) == "19.2 per day"
    assert format_value(freq, 0.5) == "3.5 per week"
    assert format_value(cfr, 0.021) == "2.1%"
    assert format_value(lead, 0.78) == "47 min"
    assert format_value(cfr, NAN) == "–"
    assert format_change(cfr, 0.021, 0.0213) == "±0.0 pp"
    assert format_change(cfr, 0.05, 0.10) == "-5.0 pp"
    assert format_change(freq, 19.2, 20.0) == "-4%"
    assert format_change(freq, 1.0, 0.0) is None and format_change(freq, 1.0, NAN) is None
    assert judge_change(freq, 19.2, 20.0) == "worse"
    assert judge_change(lead, 0.7, 0.8) == "better"
    assert judge_change(cfr, 0.0210, 0.0213) == "unchanged"
    assert judge_change(cfr, NAN, 0.1) is None


def test_csv_follows_the_export_conventions():
    frame = pd.DataFrame({
        "period_start": [pd.Timestamp("2026-05-01"), pd.Timestamp("2026-06-01")],
        "finished_at": pd.to_datetime(["2026-05-04 10:00:00", "2026-06-01 08:30:05"]).tz_localize("UTC"),
        "change_failure_rate": [0.25, NAN],
        "incident_ids": [["INC-1", "INC-2"], None],
    })
    text = to_csv(frame)
    assert text.splitlines() == [
        "period_start,finished_at,change_failure_rate,incident_ids,definitions_version",
        f"2026-05-01,2026-05-04T10:00:00Z,0.25,INC-1; INC-2,{DEFINITIONS_VERSION}",
        f"2026-06-01,2026-06-01T08:30:05Z,,,{DEFINITIONS_VERSION}",
    ]
    assert pd.read_csv(io.StringIO(text))["change_failure_rate"].isna().tolist() == [False, True]


def test_tables_show_words_and_units_not_column_names():
    frame = pd.DataFrame({"incident_id": ["INC-1"], "attribution_rule": ["latest_deployment_in_window"],
                          "recovery_minutes": [60.0], "incident_ids": [["INC-1", "INC-3"]]})
    shown = label_frame(frame)
    assert list(shown.columns) == ["Incident", "Why this deployment", "Recovery (min)", "Incidents"]
    assert shown.iloc[0].tolist() == ["INC-1", "latest deployment of its service within the attribution window",
                                      60.0, "INC-1; INC-3"]


def test_sparkline_svg_draws_the_values_in_the_metrics_colour():
    svg = charts.sparkline_svg([1.0, 3.0, 2.0], "#0072B2", label="Deployment frequency: the last 3 months")
    assert svg.startswith('<svg viewBox="0 0 240 44"') and 'stroke="#0072B2"' in svg
    assert 'points="4.0,40.0 120.0,4.0 236.0,22.0"' in svg  # lowest at the bottom, highest at the top
    assert "<title>Deployment frequency: the last 3 months</title>" in svg
    assert charts.sparkline_svg([5.0], "#000000", label="x") == ""  # one value is no trend


def test_shades_go_from_light_to_dark():
    light, dark = charts.shades("#0072B2", 2)
    assert sum(int(light[i:i + 2], 16) for i in (1, 3, 5)) > sum(int(dark[i:i + 2], 16) for i in (1, 3, 5))


def test_a_box_is_drawn_from_plotlys_statistics_and_its_outliers():
    fig = charts.distribution_figure({"before": pd.Series([1.0, 2.0, 3.0, 100.0])}, unit="hours",
                                     colours={"before": "#8C8C8C"}, log_y=False)
    box, outliers = fig.data
    # quartiles by linear interpolation (1.75, 2.5, 27.25); whiskers to the furthest values within 1.5 × IQR
    assert (list(box.q1), list(box.median), list(box.q3)) == ([1.75], [2.5], [27.25])
    assert (list(box.lowerfence), list(box.upperfence)) == ([1.0], [3.0]) and box.boxpoints is False
    assert list(outliers.y) == [100.0] and list(outliers.x) == ["before"] and not outliers.showlegend


def test_outliers_on_the_same_pixel_are_drawn_once_with_a_true_value():
    # 2,000 values 1..100 inside, then 200 outliers between 1,000 and 1,000.1 and one far off at 10,000:
    # the span is 1..10,000, so one outlier per 1/OUTLIER_STEPS of it; each drawn is a value of the sample
    inside = [1 + 99 * i / 1999 for i in range(2000)]
    crowd = [1000 + i / 2000 for i in range(200)]
    values = pd.Series(inside + crowd + [10_000.0])
    stats, _ = charts.box_statistics(values, log=False)
    assert stats["upperfence"] == 100.0
    for log in (False, True):  # the crowd (0.1 wide) is under one step: one point, two at a step's edge
        _, drawn = charts.box_statistics(values, log=log)
        assert set(drawn) <= set(crowd + [10_000.0]) and 10_000.0 in drawn and 2 <= len(drawn) <= 3


def test_a_box_of_one_value_and_an_empty_sample():
    fig = charts.distribution_figure({"a": pd.Series([5.0]), "b": pd.Series([0.0])}, unit="hours",
                                     colours={"a": "#000000", "b": "#000000"})
    assert len(fig.data) == 1  # b's only value has no place on a log axis
    assert (list(fig.data[0].q1), list(fig.data[0].upperfence)) == ([5.0], [5.0])


# --- Time charts: marks at the period's middle, bars across the whole period, markers on the left edge

NOTE_ON_FIRST_DAY = pd.DataFrame({"starts_on": [date(2026, 5, 1)], "name": ["Phase 1: remove manual gates"]})


def left_edges(bar) -> list[pd.Timestamp]:
    """Where each bar of a trace starts, from the figure's own data: its x (the middle) less half its width."""
    return [pd.Timestamp(x) - pd.Timedelta(milliseconds=w / 2) for x, w in zip(bar.x, bar.width)]


def marker_xs(fig) -> list[pd.Timestamp]:
    return [pd.Timestamp(s.x0) for s in fig.layout.shapes if s.type == "line" and s.x0 == s.x1]


@pytest.mark.parametrize("grain, starts", [
    ("day", ["2026-04-30", "2026-05-01"]),
    ("week", ["2026-04-27", "2026-05-04"]),
    ("month", ["2026-04-01", "2026-05-01", "2026-06-01"]),
    ("quarter", ["2026-04-01", "2026-07-01"]),
])
def test_a_period_bar_spans_its_period_exactly(grain, starts):
    middles, widths = charts.period_geometry(pd.to_datetime(starts), grain)
    edges = [m - pd.Timedelta(milliseconds=w / 2) for m, w in zip(middles, widths)]
    ends = [m + pd.Timedelta(milliseconds=w / 2) for m, w in zip(middles, widths)]
    assert edges == list(pd.to_datetime(starts))
    assert ends == list(charts.period_ends(pd.to_datetime(starts), grain))
    if grain == "month":
        assert [w / 86_400_000 for w in widths] == [30, 31, 30]


def test_deployment_bars_start_where_a_marker_on_the_periods_first_day_stands():
    fig = charts.deployments_figure(FRAME, "month", annotations=NOTE_ON_FIRST_DAY)
    ok, failed = fig.data
    assert left_edges(ok) == left_edges(failed) == [pd.Timestamp("2026-04-01"), pd.Timestamp("2026-05-01"),
                                                    pd.Timestamp("2026-06-01")]
    (marker,) = marker_xs(fig)
    assert marker == left_edges(ok)[1]  # on May's left edge, not half a month off
    assert fig.layout.xaxis.ticklabelmode == "period"  # "May 2026" centred on May, as its bar is


def series_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "period_start": pd.to_datetime(["2026-05-04", "2026-05-11", "2026-05-04", "2026-05-11"]),
        "service": "all", "outcome": ["a", "a", "b", "b"], "stops": [1, 2, 3, 4],
    })


def test_stacked_series_bars_are_aligned_with_markers_too():
    fig = charts.series_figure(series_rows(), series="outcome", series_labels={"a": "A", "b": "B"}, value="stops",
                               count=None, count_label="", grain="week", unit="runs", kind="bar",
                               colours={"a": "#000000", "b": "#FFFFFF"},
                               annotations=pd.DataFrame({"starts_on": [date(2026, 5, 11)], "name": ["x"]}))
    assert marker_xs(fig) == [left_edges(fig.data[0])[1]] == [pd.Timestamp("2026-05-11")]


def test_every_time_chart_carries_the_annotations():
    per_service = summary([
        (pd.Timestamp("2026-04-01"), "payments", 3, 1, 1 / 3, 0.1, 40.0, 4),
        (pd.Timestamp("2026-05-01"), "search", 2, 1, 0.5, 2 / 31, 10.0, 2),
    ])
    multiples = charts.small_multiples_figure(per_service, METRICS_BY_ID["lead_time"], "month", ["payments", "search"],
                                              columns=2, annotations=NOTE_ON_FIRST_DAY)
    assert sorted(s.xref for s in multiples.layout.shapes) == ["x", "x2"]  # a marker on every panel
    assert {s.yref for s in multiples.layout.shapes} == {"y domain", "y2 domain"}
    assert [a.text for a in multiples.layout.annotations if a.hovertext] == ["Phase 1", "Phase 1"]
    panels = charts.panels_figure(series_rows(), panel="outcome", panels=["a", "b"], value="stops", count=None,
                                  count_label="", grain="week", unit="runs", colour="#000000",
                                  value_format=str, annotations=NOTE_ON_FIRST_DAY)
    assert len(marker_xs(panels)) == 2
    incidents = incident_rows()
    scatter = charts.incidents_figure(incidents, annotations=NOTE_ON_FIRST_DAY)
    stacked = charts.incident_periods_figure(*severity_rows(), "month", annotations=NOTE_ON_FIRST_DAY)
    assert marker_xs(scatter) == [pd.Timestamp("2026-05-01")]
    assert marker_xs(stacked) == [pd.Timestamp("2026-05-01")] * 2  # both panels


def test_the_legend_sits_above_the_plot_and_above_the_annotation_labels():
    fig = charts.deployments_figure(FRAME, "month", annotations=NOTE_ON_FIRST_DAY)
    assert fig.layout.showlegend and fig.layout.legend.yanchor == "bottom" and fig.layout.legend.y > 1.02
    assert fig.layout.xaxis.title.text == "month"  # nothing below the plot but the axis and its title


def test_a_one_entry_legend_is_removed():
    survey = pd.DataFrame({"period_start": pd.to_datetime(["2026-05-01", "2026-06-01"]), "service": "all",
                           "scale": "1–5", "satisfaction_mean": [3.5, 3.9], "responses": [10, 12]})
    one = charts.series_figure(survey, series="scale", series_labels={"1–5": "scale 1–5"}, value="satisfaction_mean",
                               count="responses", count_label="answers", grain="month", unit="satisfaction",
                               colours={"1–5": "#56B4E9"})
    assert one.layout.showlegend is False
    two = charts.series_figure(series_rows(), series="outcome", series_labels={"a": "A", "b": "B"}, value="stops",
                               count=None, count_label="", grain="week", unit="runs", colours={"a": "#000000", "b": "#FFFFFF"})
    assert two.layout.showlegend is True


# --- Durations in human units

@pytest.mark.parametrize("minutes, unit", [
    ([0.2, 0.5, 1.5], "seconds"), ([3.0, 5.0], "minutes"), ([3.0, 100.0], "minutes"), ([3.0, 150.0], "hours"),
    ([60.0, 47 * 60.0], "hours"), ([60.0, 5 * 1440.0], "days"), ([NAN, 3.0], "minutes"), ([], "seconds"),
])
def test_an_axis_takes_its_unit_from_the_datas_range(minutes, unit):
    assert charts.duration_unit(minutes)[0] == unit


def test_a_duration_axis_keeps_the_data_and_labels_ticks_in_the_chosen_unit():
    lead = METRICS_BY_ID["lead_time"]  # stored in hours
    frame = summary([(pd.Timestamp("2026-05-01"), "all", 3, 0, 0.0, 0.1, 0.05, 1),
                     (pd.Timestamp("2026-06-01"), "all", 3, 0, 0.0, 0.1, 0.08, 1)])
    fig = charts.trend_figure(frame, lead, "month")
    assert list(fig.data[0].y) == [0.05, 0.08]  # 3 and 4.8 minutes, stored as hours
    assert fig.layout.yaxis.title.text == "Change lead time (minutes)"  # never "0.05 h"
    assert dict(zip(fig.layout.yaxis.ticktext, fig.layout.yaxis.tickvals))["5"] == pytest.approx(5 / 60)
    assert fig.data[0].customdata[0][3] == "3.0 min"  # the hover too
    days = summary([(pd.Timestamp("2026-05-01"), "all", 3, 0, 0.0, 0.1, 120.0, 1)])
    assert charts.trend_figure(days, lead, "month").layout.yaxis.title.text == "Change lead time (days)"


def test_a_distribution_of_durations_is_drawn_in_the_unit_of_its_range():
    fig = charts.distribution_figure({"Review": pd.Series([0.05, 0.1, 0.2])}, unit="time in stage",
                                     colours={"Review": "#009E73"}, log_y=False, per_minute=60)
    box = fig.data[0]
    assert (box.lowerfence[0], box.median[0], box.upperfence[0]) == pytest.approx((3.0, 6.0, 12.0))
    assert fig.layout.yaxis.title.text == "time in stage (minutes)"
    fig = charts.distribution_figure({"Review": pd.Series([0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 2.0])},
                                     unit="time in stage", colours={"Review": "#009E73"}, log_y=False, per_minute=60)
    assert list(fig.data[1].y) == pytest.approx([3.0, 120.0])  # the outliers, in the axis' unit
    assert "minutes" in fig.data[1].hovertemplate  # the values' unit; the ticks may read hours


# --- Incidents: counts by severity, impossible values flagged, not plotted

def incident_rows() -> pd.DataFrame:
    return pd.DataFrame({
        "incident_id": ["INC-1", "INC-2", "INC-3"], "service": ["payments", "search", "payments"],
        "severity": ["sev1", "sev2", "sev2"],
        "started_at": pd.to_datetime(["2026-05-04 11:00", "2026-05-21 09:00", "2026-06-02 10:00"], utc=True),
        "recovery_minutes": [60.0, -4.0, 30.0], "attributed_to": ["pay-4", None, None],
    })


def severity_rows() -> tuple[pd.DataFrame, pd.DataFrame]:
    incidents = pd.DataFrame({"period_start": pd.to_datetime(["2026-05-01", "2026-05-01", "2026-06-01"]),
                              "severity": ["sev1", "sev2", "sev2"], "incidents": [1, 1, 1]})
    failures = pd.DataFrame({"period_start": pd.to_datetime(["2026-05-01", "2026-06-01"]),
                             "severity": ["sev1", charts.NO_INCIDENT], "failed_deployments": [1, 2]})
    return incidents, failures


def test_an_impossible_recovery_is_flagged_and_never_plotted():
    incidents = incident_rows()
    assert charts.impossible_recoveries(incidents).tolist() == [False, True, False]
    fig = charts.incidents_figure(incidents)
    plotted = [(c[0], y) for t in fig.data for c, y in zip(t.customdata, t.y)]
    assert sorted(plotted) == [("INC-1", 60.0), ("INC-3", 30.0)]  # INC-2's −4.0 min is not on the chart
    assert min(fig.layout.yaxis.tickvals) == 0


def test_incidents_and_failed_deployments_stack_by_severity_per_period():
    fig = charts.incident_periods_figure(*severity_rows(), "month")
    assert fig.layout.barmode == "stack"
    top = {t.name: list(t.y) for t in fig.data if t.yaxis == "y"}
    bottom = {t.name: list(t.y) for t in fig.data if t.yaxis == "y2"}
    assert top == {"severity sev1": [1], "severity sev2": [1, 1]}
    assert bottom == {"severity sev1": [1], charts.NO_INCIDENT: [2]}
    colours = {t.name: t.marker.color for t in fig.data}
    assert colours[charts.NO_INCIDENT] == NEUTRAL
    first, second = (sum(int(colours[f"severity {s}"][i:i + 2], 16) for i in (1, 3, 5)) for s in ("sev1", "sev2"))
    assert first < second  # sev1 the darker
    assert [t.name for t in fig.data if t.showlegend is not False] == ["severity sev1", "severity sev2",
                                                                       charts.NO_INCIDENT]  # each named once
    may = [t for t in fig.data if t.yaxis == "y"][0]
    assert left_edges(may) == [pd.Timestamp("2026-05-01")]


# --- Batch size: one pooled comparison with Wilson intervals, small buckets grey

def batch_rows() -> pd.DataFrame:
    """metric_batch_size rows for one service and dimension: two months, four buckets."""
    rows = [("2026-05-01", "1", 30, 1), ("2026-05-01", "2–5", 8, 1), ("2026-05-01", "16+", 10, 3),
            ("2026-05-01", "6–15", 2, 1),
            ("2026-06-01", "1", 50, 1), ("2026-06-01", "2–5", 4, 0), ("2026-06-01", "16+", 10, 2),
            ("2026-06-01", "6–15", 0, 0)]
    frame = pd.DataFrame(rows, columns=["period_start", "bucket", "deployments", "failed_deployments"])
    return frame.assign(period_start=pd.to_datetime(frame["period_start"]), service="all", dimension="changes")


def test_pooling_sums_counts_over_periods_with_wilson_intervals_and_a_minimum_n():
    pooled = charts.pool_buckets(batch_rows(), min_deployments=20)
    assert pooled["bucket"].tolist() == ["1", "2–5", "16+", "6–15"]  # the order given
    assert pooled["deployments"].tolist() == [80, 12, 20, 2]
    assert pooled["failed_deployments"].tolist() == [2, 1, 5, 1]
    assert pooled["change_failure_rate"].tolist() == [0.025, 1 / 12, 0.25, 0.5]  # never a mean of rates
    assert pooled["enough"].tolist() == [True, False, True, False]
    # Wilson 95% for 2 of 80 and 5 of 20 (z = 1.959964)
    assert pooled["low"].tolist()[0] == pytest.approx(0.006883, abs=1e-5)
    assert pooled["high"].tolist()[0] == pytest.approx(0.086644, abs=1e-5)
    assert (pooled["low"][2], pooled["high"][2]) == pytest.approx((0.111862, 0.468706), abs=1e-5)
    assert pooled["share_of_deployments"].tolist() == pytest.approx([80 / 114, 12 / 114, 20 / 114, 2 / 114])


def test_the_headline_compares_the_smallest_and_largest_readable_size():
    pooled = charts.pool_buckets(batch_rows(), min_deployments=20)
    phrase = {"1": "of 1 change", "2–5": "of 2–5 changes", "6–15": "of 6–15 changes", "16+": "of 16+ changes"}
    assert charts.pooled_sentence(pooled, phrase, list(phrase)) == (
        "Deployments of 1 change fail 2.5% (95% interval 0.7%–8.7%, 80 deployments); "
        "of 16+ changes fail 25.0% (95% interval 11.2%–46.9%, 20 deployments).")
    assert charts.pooled_sentence(charts.pool_buckets(batch_rows(), min_deployments=81), phrase, list(phrase)) is None


def test_the_pooled_figure_greys_buckets_below_the_minimum_and_draws_intervals():
    pooled = charts.pool_buckets(batch_rows(), min_deployments=20)
    fig = charts.pooled_figure(pooled, {}, colour=OKABE_ITO["vermillion"], min_deployments=20)
    assert [t.name for t in fig.data] == ["1", "2–5", "16+", "6–15"]
    assert [t.marker.line.color for t in fig.data] == [OKABE_ITO["vermillion"], NEUTRAL, OKABE_ITO["vermillion"],
                                                       NEUTRAL]
    assert [t.marker.color for t in fig.data][1] == "white"  # hollow: too few to read, but shown
    assert list(fig.data[1].y) == [0] and fig.data[1].error_y.array is None  # on the baseline: sets no scale
    one = fig.data[0]
    assert list(one.y) == [2.5]
    assert one.error_y.array[0] == pytest.approx(8.6644 - 2.5, abs=1e-3)
    assert one.error_y.arrayminus[0] == pytest.approx(2.5 - 0.6883, abs=1e-3)
    assert list(one.x) == ["1<br>80 (70%)"]
    assert "too few to read" in fig.data[1].hovertemplate and "too few" not in one.hovertemplate
    assert fig.layout.showlegend is False


def test_over_time_panels_grey_points_below_the_minimum():
    rows = batch_rows().assign(change_failure_rate=lambda f: f["failed_deployments"] / f["deployments"])
    fig = charts.panels_figure(rows, panel="bucket", panels=["1", "16+"], value="change_failure_rate",
                               count="deployments", count_label="deployments", grain="month",
                               unit="change fail rate (%)", colour=OKABE_ITO["vermillion"],
                               value_format=lambda v: f"{v:.1%}", percent=True, min_count=20)
    one, big = fig.data
    assert list(one.y) == pytest.approx([100 / 30, 2.0]) and list(big.y) == pytest.approx([30.0, 20.0])
    assert list(one.marker.line.color) == [OKABE_ITO["vermillion"]] * 2  # 30 and 50 deployments
    assert list(big.marker.line.color) == [NEUTRAL, NEUTRAL]  # 10 and 10: grey, hollow, still there
    assert list(big.marker.color) == ["white", "white"]
    assert big.customdata[0][4] == "10 deployments (too few to read)"
