"""Before/after on literal events: windows, every metric's figures and intervals, verdicts, the export."""
from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pytest
from click.testing import CliRunner
from scipy import stats as sp

from tools import cdevents as c
from dora.cli import main
from core.errors import DoraError
from dora.jobs_context import run_annotation_add, run_survey_ingest
from metrics import compare, stats
from metrics.build import DEFINITIONS_VERSION, MetricSettings
from metrics.compare import Window, compare_windows, parse_window
from metrics.export import Filters, query_table

UTC = timezone.utc
BEFORE = Window(date(2026, 1, 1), date(2026, 1, 10))
AFTER = Window(date(2026, 2, 1), date(2026, 2, 5))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def change(n: int, first_commit: str, merged: str) -> dict:
    return c.merged(id=f"m{n}", at=at(merged), change=f"acme/pay#{n}", repository="acme/pay",
                    first_commit_at=at(first_commit))


def deploy(id: str, when: str, changes: list[int], **kw) -> dict:
    return c.deployed(id=id, at=at(when), service="pay", deployment_id=id, repository="acme/pay",
                      changes=[f"acme/pay#{n}" for n in changes], **kw)


def story() -> list[dict]:
    """Before (Jan 1-10): 4 deployments, one rolled back after 30 minutes, one unplanned, lead times
    48, 24, 12, 6 and 24 hours, one incident (40 minutes, outside the attribution window).
    After (Feb 1-5): 10 deployments, each shipping one change an hour after its first commit."""
    events = [
        change(1, "2025-12-31T10:00:00", "2026-01-01T08:00:00"),
        change(2, "2026-01-01T10:00:00", "2026-01-01T12:00:00"),
        deploy("d1", "2026-01-02T10:00:00", [1, 2]),
        change(3, "2026-01-03T22:00:00", "2026-01-04T08:00:00"),
        deploy("d2", "2026-01-04T10:00:00", [3]),
        c.rolledback(id="rb1", at=at("2026-01-04T10:30:00"), service="pay", rolled_back_deployment="d2"),
        change(4, "2026-01-06T04:00:00", "2026-01-06T08:00:00"),
        deploy("d3", "2026-01-06T10:00:00", [4], unplanned=True),
        c.incident_detected(id="i1-start", at=at("2026-01-08T09:00:00"), incident="i1", service="pay"),
        c.incident_resolved(id="i1-end", at=at("2026-01-08T09:40:00"), incident="i1"),
        change(5, "2026-01-09T23:00:00", "2026-01-10T20:00:00"),
        deploy("d4", "2026-01-10T23:00:00", [5]),          # the before window's last hour (UTC)
        deploy("d5", "2026-01-11T00:30:00", []),          # in neither window
    ]
    n = 10
    for day in range(1, 6):
        for hour in (9, 15):
            shipped = f"2026-02-0{day}T{hour:02d}:00:00"
            first = (at(shipped) - timedelta(hours=1)).isoformat()[:19]
            merged = (at(shipped) - timedelta(minutes=30)).isoformat()[:19]
            events += [change(n, first, merged), deploy(f"a{n}", shipped, [n])]
            n += 1
    return events


SURVEY = """date,team,respondent,score,scale
2026-01-05,pay,r1,3,1-5
2026-01-05,pay,r2,2,1-5
2026-01-05,pay,r3,4,1-5
2026-02-02,pay,r1,4,1-5
2026-02-02,pay,r2,5,1-5
2026-02-02,pay,r3,5,1-5
2026-02-02,other,r1,1,1-5
"""


@pytest.fixture
def loaded(wh, tmp_path):
    wh.load(story())
    path = tmp_path / "survey.csv"
    path.write_text(SURVEY, encoding="utf-8")
    run_survey_ingest(wh.con, wh.path, str(path), wh.settings)
    return wh


def by_metric(frame) -> dict:
    return {r["metric"]: r for r in frame.to_dict("records")}


def test_every_metric_side_by_side(loaded):
    rows = by_metric(compare_windows(loaded.con, BEFORE, AFTER, loaded.settings, "pay"))
    assert list(rows) == ["deployment_frequency", "lead_time", "change_failure_rate", "deployment_rework_rate",
                          "failed_deployment_recovery_time", "incident_recovery_time", "developer_satisfaction"]

    freq = rows["deployment_frequency"]
    assert (freq["before_n"], freq["after_n"], freq["before_days"], freq["after_days"]) == (4, 10, 10, 5)
    assert (freq["before_value"], freq["after_value"]) == (0.4, 2.0)
    assert freq["estimate"] == pytest.approx(5.0) and freq["better"] == "higher"
    # the after window is 5 days: one 7-day block, no spread to judge a rate by
    assert (freq["before_units"], freq["after_units"], freq["verdict"]) == (2, 1, "not enough data")
    assert math.isnan(freq["ci_low"]) and math.isnan(freq["p_holm"])
    assert freq["explanation"] == ("Deployment frequency: 0.40/day → 2.00/day; 4 deployments (2 7-day blocks) "
                                   "before, 10 (1) after: too little data for a verdict")

    lead = rows["lead_time"]  # 5 changes in 4 deployments before: fewer than 5 deployments
    assert (lead["before_n"], lead["after_n"], lead["before_value"], lead["after_value"]) == (5, 10, 24.0, 1.0)
    assert (lead["before_units"], lead["after_units"]) == (4, 10)
    assert lead["estimate"] == pytest.approx(1 / 24) and lead["estimate_kind"] == "ratio of medians"
    assert lead["verdict"] == "not enough data"

    cfr = rows["change_failure_rate"]
    assert (cfr["before_value"], cfr["after_value"], cfr["before_n"], cfr["after_n"]) == (0.25, 0.0, 4, 10)
    assert cfr["estimate"] == -0.25 and cfr["verdict"] == "not enough data"
    assert (rows["deployment_rework_rate"]["before_value"], rows["deployment_rework_rate"]["after_value"]) == (0.25, 0.0)

    recovery = rows["failed_deployment_recovery_time"]  # one failure, 30 minutes
    assert (recovery["before_value"], recovery["before_n"], recovery["after_n"]) == (30.0, 1, 0)
    assert math.isnan(recovery["after_value"]) and math.isnan(recovery["ci_low"])
    assert recovery["verdict"] == "not enough data"
    incidents = rows["incident_recovery_time"]
    assert (incidents["before_value"], incidents["before_n"], incidents["verdict"]) == (40.0, 1, "not enough data")

    survey = rows["developer_satisfaction"]  # the team named like the service; 'other' is left out
    assert (survey["before_value"], survey["after_value"], survey["before_n"], survey["after_n"]) == (3.0, 14 / 3, 3, 3)
    # one answer per respondent: the respondent-clustered interval is Welch's
    welch = sp.ttest_ind([4, 5, 5], [3, 2, 4], equal_var=False)
    ci = welch.confidence_interval(0.95)
    assert (survey["ci_low"], survey["ci_high"]) == pytest.approx((ci.low, ci.high))
    assert survey["p_value"] == pytest.approx(welch.pvalue)
    assert survey["p_holm"] == pytest.approx(welch.pvalue)  # the only metric tested: a family of one
    assert survey["unit"] == "score (1-5)" and survey["verdict"] == "not distinguishable from noise"
    assert "Holm-adjusted over 1 verdicts" in survey["explanation"]


def test_holm_adjusts_across_the_metrics_of_one_comparison(loaded):
    rows = by_metric(compare_windows(loaded.con, parse_window("2026-01-01..2026-01-20"),
                                     parse_window("2026-01-21..2026-02-05"), loaded.settings, "pay"))
    tested = {m: r for m, r in rows.items() if r["verdict"] != "not enough data"}
    assert sorted(tested) == ["change_failure_rate", "deployment_frequency", "deployment_rework_rate",
                              "developer_satisfaction"]
    raw = np.array([r["p_value"] for r in tested.values()])
    assert [r["p_holm"] for r in tested.values()] == pytest.approx(list(stats.holm_adjust(raw)))
    freq = rows["deployment_frequency"]
    assert (freq["before_n"], freq["after_n"], freq["before_units"], freq["after_units"]) == (5, 10, 3, 3)
    assert freq["explanation"].startswith(
        "Deployment frequency: 0.25/day → 0.62/day; 5 deployments (3 7-day blocks) before, 10 (3) after; "
        "rate ratio with 7-day blocks as units (cluster-robust, log scale, t with 4 df); ×2.5, 95% interval")
    assert freq["explanation"].endswith("Holm-adjusted over 4 verdicts 0.584 → not distinguishable from noise")


def test_an_open_incident_is_censored_not_dropped(wh):
    events = []
    for i in range(6):  # six incidents a side, 10 minutes before, 60 after; the last after one still open
        for window, minutes in (("01", 10), ("02", 60)):
            start = at(f"2026-{window}-{i + 2:02d}T10:00:00")
            events.append(c.incident_detected(id=f"s{window}{i}", at=start, incident=f"i{window}{i}", service="pay"))
            if not (window == "02" and i == 5):
                events.append(c.incident_resolved(id=f"e{window}{i}", at=start + timedelta(minutes=minutes),
                                                  incident=f"i{window}{i}"))
    wh.load(events)
    row = by_metric(compare_windows(wh.con, parse_window("2026-01-01..2026-01-31"),
                                    parse_window("2026-02-01..2026-02-28"), wh.settings))["incident_recovery_time"]
    # after: 5 resolved at 60 minutes and one still open when the data ends (censored, not dropped):
    # the Kaplan-Meier median is 60
    assert (row["before_value"], row["after_value"], row["before_n"], row["after_n"]) == (10.0, 60.0, 6, 5)
    assert (row["before_units"], row["after_units"]) == (6, 6)
    assert "0 before and 1 after still open, censored" in row["explanation"]
    # the verdict: the log-rank test with the open one censored (as SciPy's), and the time ratio at
    # which the after recoveries divided by it stop being longer than the before ones: 60 / 10
    # (the data end at the open one's start, so it is censored at 0 minutes)
    reference = sp.logrank(sp.CensoredData(uncensored=[10.0] * 6),
                           sp.CensoredData(uncensored=[60.0] * 5, right=[0.0]))
    assert row["estimate_kind"] == "time ratio" and row["estimate"] == pytest.approx(6, rel=1e-3)
    assert row["p_value"] == pytest.approx(reference.pvalue)
    assert row["verdict"] == "worse" and row["ci_low"] > 1


def test_windows_follow_the_time_zone(loaded):
    # in Berlin (UTC+1 in January) d4 at 23:00 UTC on Jan 10 is 00:00 on Jan 11: outside the window
    berlin = MetricSettings(timezone="Europe/Berlin")
    loaded.load([], settings=berlin)
    rows = by_metric(compare_windows(loaded.con, BEFORE, AFTER, berlin, "pay"))
    assert rows["deployment_frequency"]["before_n"] == 3
    assert rows["lead_time"]["before_n"] == 4


def test_windows_are_clipped_to_the_data_and_checked(loaded):
    wide = compare_windows(loaded.con, parse_window("2025-06-01..2026-01-10"),
                           parse_window("2026-02-01..2026-12-31"), loaded.settings)
    first = wide.iloc[0]
    assert (first.before_start, first.before_end, first.after_start, first.after_end) == (
        date(2026, 1, 1), date(2026, 1, 10), date(2026, 2, 1), date(2026, 2, 5))
    assert first.before_value == 0.4  # 4 deployments over the 10 days with data, not over 224 days
    with pytest.raises(DoraError, match=r"the after window must start after the before window ends"):
        compare_windows(loaded.con, BEFORE, Window(date(2026, 1, 10), date(2026, 2, 1)), loaded.settings)
    with pytest.raises(DoraError, match=r"the before window 2025-01-01..2025-01-31 has no data "
                                        r"\(data covers 2026-01-01..2026-02-05\)"):
        compare_windows(loaded.con, parse_window("2025-01-01..2025-01-31"), AFTER, loaded.settings)
    for text in ("2026-01-01", "2026-01-10..2026-01-01", "2026-02-30..2026-03-01"):
        with pytest.raises(DoraError):
            parse_window(text)


def test_a_scope_s_data_span_is_its_services_events_and_the_merges_into_their_repositories(wh):
    """data_span on literal rows: a service's span counts the merges into its repositories
    (before its first deployment too); an event naming no service counts only for the organisation;
    a team's span is its services' together; a service without events has none."""
    wh.load([
        c.merged(id="m1", at=at("2025-12-20T10:00:00"), change="acme/pay#1", repository="acme/pay"),
        deploy("d1", "2026-01-02T10:00:00", [1]),
        c.deployed(id="d2", at=at("2026-01-05T10:00:00"), service="cart", deployment_id="d2", repository="acme/cart"),
        c.incident_detected(id="i1", at=at("2026-01-10T10:00:00"), incident="x", service=None),
    ])
    span = lambda scope: compare.data_span(wh.con, wh.settings, scope)  # noqa: E731
    assert span(None) == (date(2025, 12, 20), date(2026, 1, 10))
    assert span("pay") == (date(2025, 12, 20), date(2026, 1, 2))
    assert span("cart") == (date(2026, 1, 5), date(2026, 1, 5))
    assert span(compare.Scope(("pay", "cart"), "checkout")) == (date(2025, 12, 20), date(2026, 1, 5))
    assert span("nobody") is None
    # the same days from every service's span read once by the caller (an export's --by listing)
    spans = compare.read_service_spans(wh.con)
    for scope in (None, "pay", "cart", compare.Scope(("pay", "cart"), "checkout"), "nobody"):
        assert compare.data_span(wh.con, wh.settings, scope, spans) == span(scope), scope
    # a caller that has read the span and the annotations already gets the same windows from them
    run_annotation_add(wh.con, wh.path, wh.settings, "A", date(2026, 1, 1), None, None)
    found = compare.query_annotations(wh.con, "pay", every_service=False)
    for window in (compare.window_before_annotation, compare.window_after_annotation):
        assert window(wh.con, "A", wh.settings, "pay", found=found, span=span("pay")) \
            == window(wh.con, "A", wh.settings, "pay")


def test_windows_read_apart_compare_as_windows_read_together(loaded):
    """compare_read (each window read alone, the dashboard's baseline kept for every period) gives
    compare_windows' rows exactly, the survey included; a window read once serves several comparisons."""
    con, settings = loaded.con, loaded.settings
    for scope in (compare.Scope(), compare.Scope(("pay",)), compare.Scope(("pay",), "checkout")):
        before = compare.read_window(con, "before", BEFORE, settings, scope, "production")
        for after in (AFTER, Window(date(2026, 2, 2), date(2026, 2, 3)), Window(date(2026, 1, 11), date(2026, 2, 5))):
            now = compare.read_window(con, "after", after, settings, scope, "production")
            apart = compare.compare_read(before, now, scope, "production")
            assert apart.equals(compare_windows(con, BEFORE, after, settings, scope)), (scope, after)


def test_values_are_filed_under_their_measure_whatever_the_order_of_measures(loaded, monkeypatch):
    """compare_values numbers each value's measure by its place in the MEASURES it is given, so the
    numbers split_values reads back name the same measures in any order."""
    expected = compare_windows(loaded.con, BEFORE, AFTER, loaded.settings, "pay")
    monkeypatch.setattr(compare, "MEASURES", tuple(reversed(compare.MEASURES)))
    assert compare_windows(loaded.con, BEFORE, AFTER, loaded.settings, "pay").equals(expected)


def test_a_window_without_any_deployment_is_not_enough_data(wh):
    wh.load([c.incident_detected(id="s", at=at("2026-03-01T10:00:00"), incident="x", service="pay"),
             c.incident_detected(id="e", at=at("2026-03-20T10:00:00"), incident="y", service="pay")])
    rows = by_metric(compare_windows(wh.con, parse_window("2026-03-01..2026-03-10"),
                                     parse_window("2026-03-11..2026-03-20"), wh.settings))
    assert rows["deployment_frequency"]["verdict"] == "not enough data"
    assert (rows["deployment_frequency"]["before_value"], rows["deployment_frequency"]["after_value"]) == (0, 0)
    assert rows["change_failure_rate"]["verdict"] == "not enough data"
    assert math.isnan(rows["change_failure_rate"]["before_value"])


def test_verdicts_know_each_metrics_good_direction():
    up, down, across = stats.Interval(1, 0.5, 2), stats.Interval(-1, -2, -0.5), stats.Interval(0, -1, 1)
    assert compare.decide(up, 0, "higher", True) == "improved"
    assert compare.decide(up, 0, "lower", True) == "worse"
    assert compare.decide(down, 0, "lower", True) == "improved"
    assert compare.decide(down, 0, "higher", True) == "worse"
    assert compare.decide(across, 0, "lower", True) == "not distinguishable from noise"
    assert compare.decide(stats.Interval(2, 1.2, 3), 1, "higher", True) == "improved"  # a ratio
    assert compare.decide(stats.Interval(2, 0.9, 3), 1, "higher", True) == "not distinguishable from noise"
    assert compare.decide(up, 0, "higher", False) == "not enough data"
    assert compare.decide(stats.Interval(math.nan, math.nan, math.nan), 0, "higher", True) == "not enough data"


def test_annotation_windows(loaded):
    con, settings = loaded.con, loaded.settings
    run_annotation_add(con, loaded.path, settings, "A", date(2026, 1, 11), None, None)
    run_annotation_add(con, loaded.path, settings, "B", date(2026, 2, 1), None, None)
    run_annotation_add(con, loaded.path, settings, "pay on call", date(2026, 1, 20), "pay", None)
    run_annotation_add(con, loaded.path, settings, "B", date(2026, 1, 25), "other", None)
    before = compare.window_before_annotation(con, "A", settings)
    assert (before.start, before.end, before.label) == (date(2026, 1, 1), date(2026, 1, 10), "before A")
    after = compare.window_after_annotation(con, "B", settings)
    assert (after.start, after.end, after.label) == (date(2026, 2, 1), date(2026, 2, 5), "after B")
    # the window before B starts at the previous annotation that applies: A for the organisation, the
    # service's own one for pay; 'other''s B is never chosen for the organisation
    assert str(compare.window_before_annotation(con, "B", settings)) == "2026-01-11..2026-01-31"
    assert str(compare.window_before_annotation(con, "B", settings, "pay")) == "2026-01-20..2026-01-31"
    assert str(compare.window_after_annotation(con, "A", settings, "pay")) == "2026-01-11..2026-01-19"
    assert str(compare.window_before_annotation(con, "B", settings, "other")) == "2026-01-11..2026-01-24"
    assert str(compare.window_after_annotation(con, "1", settings)) == "2026-01-11..2026-01-31"  # by id
    with pytest.raises(DoraError, match=r"no annotation 'pay on call' applies to the whole organisation"):
        compare.window_before_annotation(con, "pay on call", settings)
    # the export: the first and last annotations between --from and --to split the range
    frame = query_table(con, "before-after", Filters(), settings)
    first = frame.iloc[0]
    assert (str(first.before_start), str(first.before_end), first.before_label) == ("2026-01-01", "2026-01-10", "before A")
    assert (str(first.after_start), str(first.after_end), first.after_label) == ("2026-02-01", "2026-02-05", "after B")
    assert frame["definitions_version"].unique().tolist() == [DEFINITIONS_VERSION]
    later = query_table(con, "before-after", Filters(from_date=date(2026, 1, 15), service="pay"), settings)
    assert (str(later.iloc[0].before_start), later.iloc[0].before_label) == ("2026-01-15", "before pay on call")
    assert (str(later.iloc[0].after_start), later.iloc[0].after_label) == ("2026-02-01", "after B")
    with pytest.raises(DoraError, match="no annotation between --from and --to"):
        query_table(con, "before-after", Filters(from_date=date(2026, 2, 2)), settings)


def test_cli_compare_and_export(loaded):
    run_annotation_add(loaded.con, loaded.path, loaded.settings, "Phase 1", date(2026, 1, 11), None, None)
    loaded.con.close()
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None})
    db = ["--db", str(loaded.path)]
    table = runner.invoke(main, ["compare", "--before", "2026-01-01..2026-01-10", "--after-annotation", "Phase 1",
                                 "--service", "pay", *db])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[:3] == ["Before/after: service pay, production (days in UTC, both ends included)",
                         "  before  2026-01-01..2026-01-10  10 days",
                         "  after   2026-01-11..2026-02-05  26 days"]
    freq = next(line for line in lines if line.startswith("Deployment frequency"))
    assert freq.split()[3:7] == ["0.40", "0.42", "×1.06", "(+6%)"]  # 11 deployments in 26 days against 4 in 10
    assert freq.endswith("not distinguishable from noise")
    cfr = next(line for line in lines if line.startswith("Change fail rate"))
    assert cfr.split()[4:7] == ["25.0%", "0.0%", "-25.0"]
    as_csv = runner.invoke(main, ["compare", "--annotation", "Phase 1", "--format", "csv", *db])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["metric"] for r in rows][:3] == ["deployment_frequency", "lead_time", "change_failure_rate"]
    assert rows[0]["before_label"] == "before Phase 1" and rows[0]["definitions_version"] == DEFINITIONS_VERSION
    assert rows[5]["verdict"] == "not enough data" and rows[5]["ci_low"] == ""
    usage = runner.invoke(main, ["compare", "--before", "2026-01-01..2026-01-10", *db])
    assert usage.exit_code == 2 and "give the after window once" in usage.output
    exported = runner.invoke(main, ["export", "--table", "before-after", *db])
    assert exported.exit_code == 0, exported.output
    header = exported.output.splitlines()[0].split(",")
    assert header[:8] == ["service", "environment", "metric", "label", "unit", "better", "before_label", "before_start"]
    assert header[-1] == "definitions_version"


def test_the_dashboard_page_shows_ratios_as_times_and_every_verdicts_line(loaded, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from core.text import escape_markdown
    from tests.test_dashboard_fixture import APP

    st.cache_data.clear()
    monkeypatch.setenv("DORA_DB", str(loaded.path))
    monkeypatch.delenv("DORA_CONFIG", raising=False)
    app = AppTest.from_file(str(APP), default_timeout=60)
    app.query_params.update(compare="dates", before_dates=["2026-01-01", "2026-01-20"],
                            after_dates=["2026-01-21", "2026-02-05"])
    app.run()
    app.switch_page("views/before_after.py")
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    expected = compare_windows(loaded.con, parse_window("2026-01-01..2026-01-20"),
                               parse_window("2026-01-21..2026-02-05"), loaded.settings)
    table = app.dataframe[0].value.set_index("Metric")
    # frequency 5 → 10 deployments in 20 and 16 days: the rate ratio 2.5 as ×, its interval too
    frequency = table.loc["Deployment frequency"]
    assert frequency["Change"] == "×2.5" and frequency["Uncertainty"].startswith("95%: ×")
    assert table.loc["Change fail rate", "Change"].endswith("pts")
    shown = "\n".join(m.value for m in app.markdown)
    assert all(f"- {escape_markdown(line)}" in shown for line in expected["explanation"])
    st.cache_data.clear()
