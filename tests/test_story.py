"""The phase story table: windows between annotations (literal rows), every metric per window with
its change against the baseline and verdict, `dora story`, `dora export --table story`, and the
bundled sample's story.

The sample's story (data/sample/README.md) and the tolerances this file accepts, organisation-wide
(the baseline is 2025-12-01..2026-05-24, Phase 4 is 2026-08-10..2026-11-30):

| metric | story | accepted baseline | accepted Phase 4 |
|---|---|---|---|
| deployments a day | about 1 a week per service (6 services) → 18–22 a day | 0.85 – 1.1 | 18 – 22 |
| change fail rate | 18% → 2.1% | 15% – 21% | 1.5% – 3% |
| median change lead time | about 5 days → about 45 min | 96 – 144 h | 30 – 60 min |
| median recovery (both kinds) | about 45 → about 3 min | 30 – 65 min | 1.5 – 6 min |
| developer satisfaction (1-5) | about 3.2 → about 4.7 | 3.0 – 3.4 | 4.5 – 4.9 |

Phase 4's verdict is "improved" for every metric but failures caught in rollout's, where the
baseline had no rollouts (0%); every service deploys about once a week in its baseline.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, timezone
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from core.errors import DoraError
from dora.cli import main
from dora.jobs_context import run_annotation_add
from metrics import compare, story
from metrics.build import DEFINITIONS_VERSION
from metrics.compare import Window
from metrics.export import Filters, query_table
from tools import cdevents as c



def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def deploy(id: str, day: str, service: str = "pay") -> dict:
    return c.deployed(id=id, at=at(f"2026-{day}T10:00:00"), service=service, deployment_id=id)


# pay deploys on Jan 2, 4, 6, 12, 13, 21 and Feb 2, 3, 4; web on Jan 1 and Feb 5 (the data's span)
EVENTS = [deploy(f"p{i}", day) for i, day in enumerate(
    ["01-02", "01-04", "01-06", "01-12", "01-13", "01-21", "02-02", "02-03", "02-04"])]
EVENTS += [deploy("w1", "01-01", "web"), deploy("w2", "02-05", "web")]


@pytest.fixture
def told(wh):
    """The literal events with annotations: A (Jan 11), pay's own P (Jan 20), B and D (both Feb 1)
    and C after the data (Mar 1)."""
    wh.load(EVENTS)
    for name, day, service in (("A", date(2026, 1, 11), None), ("P", date(2026, 1, 20), "pay"),
                               ("B", date(2026, 2, 1), None), ("D", date(2026, 2, 1), None),
                               ("C", date(2026, 3, 1), None)):
        run_annotation_add(wh.con, wh.path, wh.settings, name, day, service, None)
    return wh


def annotations(*rows: tuple[int, str, date]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "name", "starts_on"])


def test_split_windows_cuts_the_span_at_each_annotation():
    found = story.split_windows(annotations((1, "A", date(2026, 1, 11)), (2, "B", date(2026, 2, 1))),
                                (date(2026, 1, 1), date(2026, 2, 5)))
    assert found.baseline == Window(date(2026, 1, 1), date(2026, 1, 10), "baseline")
    assert found.phases == (Window(date(2026, 1, 11), date(2026, 1, 31), "A"),
                            Window(date(2026, 2, 1), date(2026, 2, 5), "B"))


def test_split_windows_merges_a_shared_date_and_skips_annotations_after_the_data():
    found = story.split_windows(annotations((1, "B", date(2026, 2, 1)), (2, "D", date(2026, 2, 1)),
                                            (3, "C", date(2026, 3, 1))), (date(2026, 1, 1), date(2026, 2, 5)))
    assert found.phases == (Window(date(2026, 2, 1), date(2026, 2, 5), "B + D"),)
    # one name on two dates (an organisation's and a service's own): each phase says its date
    twice = story.split_windows(annotations((1, "B", date(2026, 1, 20)), (2, "B", date(2026, 2, 1))),
                                (date(2026, 1, 1), date(2026, 2, 5)))
    assert [w.label for w in twice.phases] == ["B (2026-01-20)", "B (2026-02-01)"]
    # an annotation on the last day with data: a phase of one day
    last = story.split_windows(annotations((1, "E", date(2026, 2, 5))), (date(2026, 1, 1), date(2026, 2, 5)))
    assert last.phases == (Window(date(2026, 2, 5), date(2026, 2, 5), "E"),) and last.baseline.days == 35


def test_split_windows_needs_a_baseline_and_an_annotation_inside_the_data():
    span = (date(2026, 1, 1), date(2026, 2, 5))
    with pytest.raises(DoraError, match=r"annotation 'Z' \(2026-01-01\) is not after the first day with data "
                                        r"\(2026-01-01\): no days are left for a baseline"):
        story.split_windows(annotations((1, "Z", date(2026, 1, 1)), (2, "A", date(2026, 1, 11))), span)
    with pytest.raises(DoraError, match=r"no annotation falls within the data \(2026-01-01..2026-02-05\)"):
        story.split_windows(annotations((1, "C", date(2026, 3, 1))), span)
    with pytest.raises(DoraError, match="no annotation falls within the data"):
        story.split_windows(annotations(), span)


def test_the_windows_of_the_organisation_of_a_service_and_of_chosen_annotations(told):
    con, settings = told.con, told.settings
    org = story.story_windows(con, settings)
    assert [(str(w), w.label) for w in (org.baseline, *org.phases)] == [
        ("2026-01-01..2026-01-10", "baseline"), ("2026-01-11..2026-01-31", "A"), ("2026-02-01..2026-02-05", "B + D")]
    # pay: its own span (Jan 2..Feb 4) and its own annotation P with the organisation's
    pay = story.story_windows(con, settings, "pay")
    assert [(str(w), w.label) for w in (pay.baseline, *pay.phases)] == [
        ("2026-01-02..2026-01-10", "baseline"), ("2026-01-11..2026-01-19", "A"),
        ("2026-01-20..2026-01-31", "P"), ("2026-02-01..2026-02-04", "B + D")]
    chosen = story.story_windows(con, settings, refs=("B", "1"))  # a name and an id, in any order
    assert [(str(w), w.label) for w in (chosen.baseline, *chosen.phases)] == [
        ("2026-01-01..2026-01-10", "baseline"), ("2026-01-11..2026-01-31", "A"), ("2026-02-01..2026-02-05", "B")]
    limited = story.story_windows(con, settings, limits=(date(2026, 1, 5), date(2026, 2, 3)))
    assert [str(w) for w in (limited.baseline, *limited.phases)] == [
        "2026-01-05..2026-01-10", "2026-01-11..2026-01-31", "2026-02-01..2026-02-03"]
    with pytest.raises(DoraError, match=r"no annotation 'P' applies to the whole organisation"):
        story.story_windows(con, settings, refs=("P",))
    with pytest.raises(DoraError, match=r"no data for service 'nope'"):
        story.story_windows(con, settings, "nope")
    # a caller that has read the scope's span already (the dashboard's) gets the same windows and story
    span = compare.data_span(con, settings, "pay")
    assert story.story_windows(con, settings, "pay", span=span) == pay
    assert story.query_story_long(con, settings, "pay", span=span).equals(story.query_story_long(con, settings, "pay"))


def test_every_window_carries_every_metric_with_its_change_and_verdict(told):
    long = story.query_story_long(told.con, told.settings)
    assert list(long.columns) == story.LONG_COLUMNS
    assert list(long["metric"].unique()) == list(story.STORY_COLUMNS)
    frequency = long[long["metric"] == "deployment_frequency"].set_index("window")
    # 4 deployments in 10 days, 3 in 21, 4 in 5
    assert list(frequency.index) == ["baseline", "A", "B + D"]
    assert list(frequency["value"]) == pytest.approx([0.4, 3 / 21, 0.8])
    assert list(frequency["days"]) == [10, 21, 5]
    assert math.isnan(frequency.loc["baseline", "vs_baseline"]) and pd.isna(frequency.loc["baseline", "verdict"])
    assert frequency.loc["A", "vs_baseline"] == pytest.approx((3 / 21) / 0.4)
    assert frequency.loc["B + D", "vs_baseline"] == pytest.approx(2.0)
    # five days are one 7-day block: no spread to judge a rate by
    assert frequency.loc["B + D", "verdict"] == "not enough data"
    assert frequency.loc["A", "verdict"] == "not distinguishable from noise"
    assert frequency.loc["A", "explanation"].startswith("Deployment frequency: 0.40/day → 0.14/day; 4 deployments")


def test_the_table_has_one_row_per_window_and_three_columns_per_metric(told):
    table = story.pivot_story(story.query_story_long(told.con, told.settings, "pay"))
    assert list(table.columns[:6]) == ["service", "environment", "window", "start", "end", "days"]
    assert list(table.columns[6:9]) == ["deploys_per_day", "deploys_per_day_vs_baseline", "deploys_per_day_verdict"]
    assert len(table.columns) == 6 + 3 * len(story.STORY_COLUMNS)
    assert list(table["window"]) == ["baseline", "A", "P", "B + D"]
    assert list(table["deploys_per_day"]) == pytest.approx([3 / 9, 2 / 9, 1 / 12, 3 / 4])
    assert set(table["service"]) == {"pay"}
    exported = query_table(told.con, "story", Filters(by_service=True), told.settings)
    # web has no deployment between its first and last day: its phases are empty but it has a story
    assert list(exported["service"].unique()) == ["pay", "web"]
    with pytest.raises(DoraError, match=r"no teams are configured: add \[\[teams\]\]"):
        query_table(told.con, "story", Filters(by_team=True), told.settings)


def test_dora_story_and_the_export(told):
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None})
    db = ["--db", str(told.path)]
    table = runner.invoke(main, ["story", *db])
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[:4] == ["Story: service all, production (days in UTC, both ends included)",
                         "  baseline: 2026-01-01..2026-01-10 (10 days)", "  A: 2026-01-11..2026-01-31 (21 days)",
                         "  B + D: 2026-02-01..2026-02-05 (5 days)"]
    frequency = next(line for line in lines if line.startswith("Deployment frequency"))
    assert frequency.split() == ["Deployment", "frequency", "0.40/day", "0.14/day", "×0.36", "≈", "0.80/day",
                                 "×2", "?"]
    explained = runner.invoke(main, ["story", "--explain", "--annotation", "B", *db])
    assert "B against the baseline:" in explained.output
    assert "- Deployment frequency: 0.23/day → 0.80/day; 7 deployments" in explained.output
    as_csv = runner.invoke(main, ["story", "--format", "csv", *db])
    rows = list(csv.DictReader(io.StringIO(as_csv.output)))
    assert [r["window"] for r in rows] == ["baseline", "A", "B + D"]
    assert rows[2]["deploys_per_day_vs_baseline"] == "2.0" and rows[0]["deploys_per_day_verdict"] == ""
    assert rows[0]["definitions_version"] == DEFINITIONS_VERSION
    exported = runner.invoke(main, ["export", "--table", "story", *db])
    assert exported.exit_code == 0, exported.output
    assert exported.output == as_csv.output
    unknown = runner.invoke(main, ["story", "--annotation", "nope", *db])
    assert unknown.exit_code == 1 and "no annotation 'nope' applies to the whole organisation" in unknown.output


# --- the bundled sample -------------------------------------------------------------------------

TOLERANCES = {  # (baseline, Phase 4), as the module's docstring states them
    "deploys_per_day": ((0.85, 1.1), (18, 22)),
    "change_failure_rate": ((0.15, 0.21), (0.015, 0.03)),
    "lead_time_median_hours": ((96, 144), (0.5, 1.0)),
    "failed_deployment_recovery_median_minutes": ((30, 65), (1.5, 6)),
    "incident_recovery_median_minutes": ((30, 65), (1.5, 6)),
    "satisfaction_score": ((3.0, 3.4), (4.5, 4.9)),
}


@pytest.fixture
def sample(sample_cli):
    """Run a dora read command against the loaded sample (conftest.sample_cli)."""
    return sample_cli


def test_the_sample_tells_its_story(sample):
    rows = {r["window"]: r for r in csv.DictReader(io.StringIO(sample("story", "--format", "csv")))}
    assert list(rows) == ["baseline", "Phase 1: remove manual gates", "Phase 2: fast reliable tests",
                          "Phase 3: progressive delivery", "Phase 4: feature flags"]
    baseline, last = rows["baseline"], rows["Phase 4: feature flags"]
    assert (baseline["start"], baseline["end"], last["start"], last["end"]) == (
        "2025-12-01", "2026-05-24", "2026-08-10", "2026-11-30")
    for column, ((b_low, b_high), (a_low, a_high)) in TOLERANCES.items():
        assert b_low <= float(baseline[column]) <= b_high, (column, baseline[column])
        assert a_low <= float(last[column]) <= a_high, (column, last[column])
    verdicts = {column[:-len("_verdict")]: v for column, v in last.items() if column.endswith("_verdict")}
    assert set(verdicts) == set(story.STORY_COLUMNS.values())
    assert {v for column, v in verdicts.items() if column != "caught_in_rollout_share"} == {"improved"}
    # no rollouts in the baseline; from Phase 3 on at least 30% of failures caught in rollout
    assert float(baseline["caught_in_rollout_share"]) == 0
    assert all(float(rows[p]["caught_in_rollout_share"]) >= 0.3
               for p in ("Phase 3: progressive delivery", "Phase 4: feature flags"))
    # the organisation's story has no place for notifications' own annotation; its own story does
    payments = list(csv.DictReader(io.StringIO(sample("story", "--service", "payments", "--format", "csv"))))
    assert 1 / 7 * 0.7 <= float(payments[0]["deploys_per_day"]) <= 1 / 7 * 1.5  # about once a week
    notifications = list(csv.DictReader(io.StringIO(sample("story", "--service", "notifications", "--format", "csv"))))
    assert "notifications joins the shared CD pipeline" in [r["window"] for r in notifications]


# --- the dashboard's page ----------------------------------------------------------------------

def open_story_page(db: Path, monkeypatch, **query):
    """The dashboard (as `dora dashboard --db` starts it) on its Phase story page, caches cleared."""
    import streamlit as st

    from tests.test_dashboard_app import open_app

    st.cache_data.clear()
    return open_app(db, monkeypatch, "views/story.py", **query)


def test_the_dashboard_page_shows_the_table_and_a_metric_through_the_phases(told, monkeypatch):
    import plotly.io as pio

    app = open_story_page(told.path, monkeypatch, story_metric="deployment_frequency")
    table = app.dataframe[0].value
    assert list(table.columns) == ["metric", "baseline", "A", "B + D"]
    assert table.iloc[0].tolist() == ["Deployment frequency", "0.40/day", "0.14/day ×0.36 ≈", "0.80/day ×2 ?"]
    assert len(table) == len(story.STORY_COLUMNS)
    figure = pio.from_json(app.get("plotly_chart")[0].proto.spec)
    assert list(figure.data[0].x) == ["baseline", "A", "B + D"]
    assert app.download_button, "the table's CSV"


def test_the_dashboard_page_explains_a_warehouse_without_annotations(wh, monkeypatch):
    wh.load(EVENTS)
    app = open_story_page(wh.path, monkeypatch)
    assert "No story to tell yet" in app.info[0].value and "dora annotate add" in app.info[0].value
