"""Chart builders and presentation helpers on small literal frames (no Streamlit, no database)."""
from __future__ import annotations

import io
import math
from datetime import date, datetime, timezone

import pandas as pd
import pytest

from dashboard import charts
from dashboard.catalog import (
    COLOURS, OKABE_ITO, format_change, format_duration_minutes, format_value, judge_change,
)
from dashboard.ui import label_frame, to_csv
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
    assert list(pd.to_datetime(trace.x)) == [pd.Timestamp("2026-04-01"), pd.Timestamp("2026-05-01"),
                                            pd.Timestamp("2026-06-01")]
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
    assert fig.layout.yaxis.title.text == "Change lead time (hours)"
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
        "2026-05-01,2026-05-04T10:00:00Z,0.25,INC-1; INC-2,1.0",
        "2026-06-01,2026-06-01T08:30:05Z,,,1.0",
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


def test_a_distribution_of_many_values_is_drawn_from_its_statistics():
    many = pd.Series(range(1, charts.MAX_BOX_POINTS + 2), dtype=float)
    few = pd.Series([1.0, 2.0, 3.0, 100.0])
    fig = charts.distribution_figure({"before": few, "after": many}, unit="hours",
                                     colours={"before": "#8C8C8C", "after": "#009E73"}, log_y=False)
    before, after = fig.data
    assert list(before.y) == [1.0, 2.0, 3.0, 100.0] and before.boxpoints == "outliers"
    assert after.y is None and after.boxpoints is False
    assert list(after.median) == [many.median()] and list(after.q1) == [many.quantile(0.25)]
    assert list(after.lowerfence) == [1.0] and list(after.upperfence) == [float(len(many))]
