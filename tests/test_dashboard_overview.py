"""The Overview as a lead reads it (issue 13): partial periods judged right, badges coloured by each
metric's good direction, a baseline, the overall level, freshness of every source, links in the CLI's
spelling, and a drill-down whose CSV has its own columns. AppTest on the fixture and on the sample."""
from __future__ import annotations

import re
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import streamlit as st

from dashboard import data, ui
from dashboard.catalog import OKABE_ITO, VERDICT_COLOURS, change_badge, judge_period_change
from metrics.registry import METRICS_BY_ID
from tests.test_dashboard_app import open_app
from tests.test_dashboard_fixture import ROOT, SAMPLE, fixture_db, ingest_with_cli  # noqa: F401

FREQUENCY = METRICS_BY_ID["deployment_frequency"]


@pytest.fixture(autouse=True)
def fresh_cache():
    st.cache_data.clear()
    yield
    st.cache_data.clear()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    """The bundled sample with its survey and annotations, loaded as `make demo` loads it."""
    if not SAMPLE.exists():
        pytest.skip("no bundled sample")
    db = tmp_path_factory.mktemp("overview") / "dora.duckdb"
    assert ingest_with_cli(db, SAMPLE).returncode in (0, 3)  # 3: the sample's malformed lines
    for command in (["ingest", "survey", str(SAMPLE.with_name("survey.csv"))],
                    ["annotate", "import", str(SAMPLE.with_name("annotations.csv"))]):
        done = subprocess.run([sys.executable, "-m", "dora", *command, "--db", str(db), "-q"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
    return db


def badges_of(app, metric_name: str) -> str:
    """The badge line of one card (the markdown right after its st.metric)."""
    lines = [m.value for m in app.markdown if "dora-badge" in m.value]
    names = [m.label.split(" :")[0] for m in app.metric]
    return lines[names.index(metric_name)]


def verdicts(line: str) -> list[str]:
    return re.findall(r'<span class="dora-badge" style="color:(#[0-9A-F]{6});[^>]*>([^<]*)</span>', line)


def test_at_quarter_the_sample_s_rising_rate_is_better_not_worse(sample_db, monkeypatch):
    # Q4 2026 has 61 of 92 days: 1,199 deployments are 19.7 a day against Q3's 14.4 (+36%)
    app = open_app(sample_db, monkeypatch, grain="quarter", baseline="previous")
    cards = {m.label.split(" :")[0]: m.value for m in app.metric}
    assert cards["Deployment frequency"] == "19.7 per day"
    (badge,) = verdicts(badges_of(app, "Deployment frequency"))
    assert badge == (OKABE_ITO["blue"], "↑ +36% better")
    assert "**All services** · 2026 Q4 (so far: 61 of 92 days), compared with 2026 Q3" in \
        [m.value for m in app.markdown]


def test_a_week_of_one_day_is_too_early_to_tell(sample_db, monkeypatch):
    # the data ends on Monday 30 November: the last week has one observed day
    app = open_app(sample_db, monkeypatch, grain="week", services="payments", baseline="previous")
    line = badges_of(app, "Deployment frequency")
    assert verdicts(line) == [("#8C8C8C", "too early to tell")]
    assert "worse" not in line and "better" not in line


@pytest.mark.parametrize("current, previous, enough, verdict", [
    (19.7, 14.4, True, "better"), (2.0, 16.0, False, "too early to tell"), (2.0, 16.0, True, "worse"),
    (float("nan"), 1.0, True, None),
])
def test_period_verdicts(current, previous, enough, verdict):
    assert judge_period_change(FREQUENCY, current, previous, enough=enough) == verdict


def test_badges_take_the_colour_of_the_metric_s_good_direction_not_its_own():
    assert VERDICT_COLOURS == {"better": "#0072B2", "worse": "#D55E00"}  # Okabe–Ito blue, vermillion
    assert 'color:#D55E00' in change_badge("↑ +2% worse", "worse")
    assert 'color:#8C8C8C' in change_badge("→ ±0.0 pp unchanged", "unchanged")


def test_sample_month_badges_are_coloured_by_verdict(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, baseline="previous")
    # November against October: 19.3 a day was 20.0 (worse), the change fail rate stayed at 2.1%
    assert verdicts(badges_of(app, "Deployment frequency")) == [(OKABE_ITO["vermillion"], "↓ -3% worse")]
    assert verdicts(badges_of(app, "Change fail rate")) == [("#8C8C8C", "→ ±0.0 pp unchanged")]


def test_cards_compare_with_the_window_before_the_first_annotation_by_default(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    assert app.sidebar.selectbox(key="baseline").value == "before"
    frequency = verdicts(badges_of(app, "Deployment frequency"))
    assert frequency[1] == (OKABE_ITO["blue"], "↑ ×20.6 better")  # 0.94 a day before Phase 1, 19.3 now
    assert "vs before Phase 1: remove manual gates" in badges_of(app, "Deployment frequency").replace("\\", "")
    lead_time = verdicts(badges_of(app, "Change lead time"))
    assert lead_time[1] == (OKABE_ITO["blue"], "↓ -99% better")
    summary = [m.value for m in app.markdown if m.value.startswith("DORA level")]
    assert summary and "Elite" in summary[0] and "Quick Check score **" in summary[0]


def test_the_baseline_is_chosen_in_the_sidebar_and_named_in_the_link(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch, baseline="Phase 2: fast reliable tests")  # a name works too
    assert app.sidebar.selectbox(key="baseline").value == "2"
    assert app.query_params["baseline"] == "2"
    assert "vs Phase 2: fast reliable tests" in badges_of(app, "Change lead time").replace("\\", "")
    app.sidebar.selectbox(key="baseline").set_value("previous").run()
    assert all(len(verdicts(badges_of(app, m))) == 1 for m in ("Deployment frequency", "Change lead time"))


def test_freshness_counts_annotations_and_survey_answers(sample_db, monkeypatch):
    app = open_app(sample_db, monkeypatch)
    freshness = app.dataframe[0].value
    assert dict(zip(freshness["Source"], freshness["Records stored"])) == {
        "annotations": 5, "eventlog": 17767, "survey": 464}


def test_links_use_the_cli_s_ids_and_accept_labels(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, grain="week")
    assert app.button_group(key="grain").value == "week" and app.query_params["grain"] == "week"
    app = open_app(fixture_db, monkeypatch, grain="Quarter")
    assert app.button_group(key="grain").value == "quarter" and app.query_params["grain"] == "quarter"
    assert not app.warning


def test_a_link_the_page_does_not_understand_says_so(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch, grain="fortnight", services=["payments", "nope"], colour="red")
    warnings = [w.value for w in app.warning]
    assert warnings == [
        "The link's services `nope` have no data in production; they are left out.",
        "The link's `grain=fortnight` is not understood (expected one of `week`, `month`, `quarter`, `day` or "
        "their names); showing Month.",
        "The link's parameter `colour` is not one this page reads; it is ignored.",
    ]
    assert app.button_group(key="grain").value == "month"
    assert app.query_params["grain"] == "fortnight"  # the address is left as the reader wrote it


def test_drill_down_has_the_rule_the_changes_and_the_commit_in_columns(fixture_db, monkeypatch):
    app = open_app(fixture_db, monkeypatch)
    app.session_state["deployments-all"] = {"selection": {
        "points": [{"customdata": ["2026-04-01", "all", "Apr 2026", 4, 1]}],
        "point_indices": [0], "box": [], "lasso": []}}
    app.run()
    records = app.dataframe[0].value
    assert records["Changes"].tolist() == [2, 1, 1, 1]
    assert records["Commit"].tolist() == ["sha-pay-1", "sha-srch-1", "sha-pay-2", "sha-pay-3"]
    assert records["Rule that linked it"].tolist()[0] == data.DEPLOYMENT_COUNTED
    assert records["Rule that linked it"].str.len().min() > 0
    snap = data.find_snapshot(fixture_db)
    frame, _ = data.load_records(snap, "deployments", "month", date(2026, 4, 1), "all", "production")
    csv = ui.to_csv(frame[["record_id", "changes", "commit", "rule"]]).splitlines()
    assert csv[1].startswith('pay-1,2,sha-pay-1,"finished in production in this period')


def test_rollout_columns_and_rules_have_words():
    for column in ("exposed_at", "recovery_from", "blast_radius_percent", "caught_in_rollout", "caused_by_change",
                   "cause_rule"):
        assert column in ui.COLUMN_LABELS
    for rule in ("caused_by_change", "caused_by_change_unmatched", "latest_deployment_in_rollout", "exposure",
                 "finish"):
        assert rule in ui.RULE_WORDS
    assert "exposed before it" in ui.RULE_WORDS["caused_by_commit_unmatched"]
