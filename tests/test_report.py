"""`dora report`: the quarterly review pack as one self-contained HTML file (dashboard/report.py).

Content checks on the written file: every section, the numbers and the attached CSVs equal to
`dora export` for the quarter, the definitions version on every figure and table, nothing fetched
from the network, text from the data escaped, formula-like CSV cells neutralised; the quarter
arithmetic; the CLI's output rules (stdout, never over the warehouse, an empty quarter refused).
"""
from __future__ import annotations

import base64
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from dashboard.report import Quarter, default_quarter, parse_quarter, review_file_name
from dora.cli import main
from metrics.build import DEFINITIONS_VERSION
from metrics.registry import PERIOD_METRICS
from dashboard.catalog import format_value
from tests.test_dashboard_fixture import at, build_warehouse, change, dashboard_events, deployment, later_events

HOSTILE = "<script>alert(1)</script>"
FORMULA = "=HYPERLINK(\"http://x\")"


def run(*args: str):
    return CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None}).invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    """The dashboard fixture (April-June) and its July load, with two annotations: Q3 2026 has a
    previous quarter and a baseline (the days before the first annotation)."""
    path = build_warehouse(tmp_path_factory.mktemp("report"), dashboard_events() + later_events())
    for name, day in (("Phase 1: <b>gates</b> removed", "2026-04-20"), ("Phase 2", "2026-06-15")):
        assert run("annotate", "add", name, "--date", day, "--db", str(path), "-q").exit_code == 0
    return path


@pytest.fixture(scope="module")
def review(db, tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("out") / "review.html"
    result = run("report", "--quarter", "2026Q3", "-o", str(out), "--db", str(db))
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


class Tags(HTMLParser):
    """Every start tag with its attributes (the text inside <script> is not parsed as tags)."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parse_tags(page: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


def attachments(page: str) -> dict[str, str]:
    """The attached CSVs by file name, decoded from their data: links."""
    found = {}
    for tag, attrs in parse_tags(page):
        if tag == "a" and attrs.get("href", "").startswith("data:text/csv"):
            found[attrs["download"]] = base64.b64decode(attrs["href"].split(",", 1)[1]).decode("utf-8")
    return found


def test_the_review_has_every_section(review):
    for heading in ("The quarter in numbers", "The story so far", "Against the previous quarter and the baseline",
                    "Trends", "DORA levels", "Batch size and risk", "The quarter's CSV files"):
        assert f">{heading}</h2>" in review
    assert "<h1>Delivery review 2026 Q3</h1>" in review
    assert "2026-07-01 to 2026-09-30" in review
    story = review.split("id=story", 1)[1].split("</table>", 1)[0]
    assert "<th>Metric</th><th class=num>baseline<br><small>2026-04-03..2026-04-19</small></th>" in story
    assert "Phase 2<br><small>2026-06-15..2026-07-07</small>" in story
    assert "2026 Q3 against 2026 Q2" in review and "baseline (before Phase 1: &lt;b&gt;gates&lt;/b&gt; removed)" in review


def test_coverage_is_the_observed_days_of_the_quarter(review):
    # the July load ends on 2026-07-07: 7 of Q3's 92 days are covered
    assert "Coverage: 7 of the quarter's 92 days observed" in review


def test_every_figure_and_table_names_the_definitions_version(review):
    tags = parse_tags(review)
    shown = [attrs for tag, attrs in tags if tag in ("figure", "table")]
    assert len([t for t, _ in tags if t == "figure"]) >= 8  # deployments, six trends, batch size
    assert all(attrs.get("data-definitions-version") == DEFINITIONS_VERSION for attrs in shown)
    captions = re.findall(r"<(?:figcaption|caption)>(.*?)</(?:figcaption|caption)>", review, flags=re.S)
    assert len(captions) == len(shown)
    assert all(f"Definitions version {DEFINITIONS_VERSION}." in c for c in captions)


def test_nothing_is_fetched_from_the_network(review):
    for tag, attrs in parse_tags(review):
        for name in ("src", "href"):
            value = attrs.get(name) or ""
            assert not re.match(r"\s*(https?:)?//", value, flags=re.I), (tag, name, value)
        assert not (tag == "script" and "src" in attrs), attrs
        assert tag not in ("link", "img", "iframe"), tag
    assert review.count("<script>") >= 1 and "Plotly.newPlot" in review  # Plotly inline, then the figures


def test_the_attached_csvs_are_what_dora_export_writes(db, review):
    files = attachments(review)
    for name, args in (("summary", []), ("summary-by-month", ["--grain", "month"]),
                       ("summary-by-service", ["--by", "service"]), ("levels", ["--table", "levels"]),
                       ("batch-size", ["--table", "batch-size"])):
        exported = run("export", "--grain", "quarter", *args, "--from", "2026-07-01", "--to", "2026-09-30",
                       "--db", str(db), "-q")
        assert exported.exit_code == 0, exported.output
        assert files[f"dora-2026Q3-{name}.csv"] == exported.stdout, name
    story = run("export", "--table", "story", "--to", "2026-09-30", "--db", str(db), "-q")
    assert story.exit_code == 0, story.output
    assert files["dora-2026Q3-story.csv"] == story.stdout  # the story up to the quarter's end
    assert {"dora-2026Q3-compare-previous-quarter.csv", "dora-2026Q3-compare-baseline.csv"} <= set(files)
    assert all(text.splitlines()[0].endswith("definitions_version") for text in files.values())


def test_the_numbers_are_the_exported_quarter(db, review):
    exported = run("export", "--grain", "quarter", "--from", "2026-07-01", "--to", "2026-09-30",
                   "--db", str(db), "-q").stdout.splitlines()
    row = dict(zip(exported[0].split(","), exported[1].split(",")))
    assert row["deployments"] == "2"
    table = review.split('id=numbers', 1)[1].split("</table>", 1)[0]
    for metric in PERIOD_METRICS:
        value = float(row[metric.column]) if row[metric.column] else None
        assert f"<td>{metric.label}</td><td class=num>{format_value(metric, value)}</td>" in table, metric.id


def test_the_same_snapshot_gives_the_same_file(db, review, tmp_path):
    again = tmp_path / "again.html"
    assert run("report", "--quarter", "2026Q3", "-o", str(again), "--db", str(db), "-q").exit_code == 0
    assert again.read_text(encoding="utf-8") == review


def test_text_from_the_data_is_escaped_and_csv_formulas_neutralised(tmp_path):
    events = [change(1, HOSTILE, at("2026-07-01")), deployment("x-1", HOSTILE, at("2026-07-02"), [1]),
              change(1, FORMULA, at("2026-07-03")), deployment("f-1", FORMULA, at("2026-07-06"), [1])]
    db = build_warehouse(tmp_path / "hostile", events)
    assert run("annotate", "add", HOSTILE, "--date", "2026-07-04", "--db", str(db), "-q").exit_code == 0
    page = run("report", "--quarter", "2026Q3", "-o", "-", "--db", str(db), "-q").stdout
    assert HOSTILE not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    by_service = attachments(page)["dora-2026Q3-summary-by-service.csv"]
    assert ',"\'=HYPERLINK(""http://x"")",' in by_service and ',"=HYPERLINK' not in by_service
    alone = run("report", "--quarter", "2026Q3", "--service", HOSTILE, "--db", str(db), "-q")
    assert alone.exit_code == 0, alone.output
    assert HOSTILE not in alone.stdout and "<h1>Delivery review 2026 Q3: &lt;script&gt;" in alone.stdout


def test_stdout_and_never_over_the_warehouse(db):
    before = db.read_bytes()
    refused = run("report", "--quarter", "2026Q3", "-o", str(db), "--db", str(db))
    assert refused.exit_code == 1 and "refusing to write over" in refused.output
    assert db.read_bytes() == before
    assert run("report", "--quarter", "2026Q3", "-o", "-", "--db", str(db), "-q").stdout.startswith("<!DOCTYPE html>")


def test_a_quarter_without_data_is_refused_with_the_coverage(db):
    result = run("report", "--quarter", "2025Q1", "--db", str(db))
    assert result.exit_code == 1
    assert "no data for 2025 Q1 (2025-01-01..2025-03-31)" in result.output
    assert "the data covers 2026-04-03 to 2026-07-07" in result.output
    bad = run("report", "--quarter", "Q3", "--db", str(db))
    assert bad.exit_code == 1 and "is not YEARQn, e.g. 2026Q3" in bad.output


def test_a_review_without_annotations_says_there_is_no_baseline(tmp_path):
    db = build_warehouse(tmp_path / "plain")
    page = run("report", "--quarter", "2026Q2", "-o", "-", "--db", str(db), "-q").stdout
    assert "No comparison with the baseline: no annotation marks a process change yet" in page
    assert "No comparison with 2026 Q1" in page  # the data starts in April


@pytest.mark.parametrize("text, quarter", [("2026Q3", Quarter(2026, 3)), ("2026-q1", Quarter(2026, 1)),
                                           (" 2025 Q4 ", Quarter(2025, 4))])
def test_parse_quarter(text, quarter):
    assert parse_quarter(text) == quarter


def test_quarter_arithmetic():
    q = Quarter(2026, 1)
    assert (q.start, q.end, q.label, q.code) == (date(2026, 1, 1), date(2026, 3, 31), "2026 Q1", "2026Q1")
    assert q.previous() == Quarter(2025, 4) and Quarter(2025, 4).end == date(2025, 12, 31)
    assert Quarter(2024, 1).end == date(2024, 3, 31) and Quarter(2026, 3).end == date(2026, 9, 30)


@pytest.mark.parametrize("today, last_day, expected", [
    (date(2026, 12, 1), date(2026, 11, 30), Quarter(2026, 3)),   # the sample, reviewed in December
    (date(2026, 10, 1), date(2026, 9, 30), Quarter(2026, 3)),    # the first day of the next quarter
    (date(2026, 9, 30), date(2026, 9, 30), Quarter(2026, 2)),    # Q3's last day: Q3 is not complete
    (date(2026, 1, 5), date(2026, 1, 4), Quarter(2025, 4)),      # across the year
    (date(2026, 12, 1), date(2026, 6, 2), Quarter(2026, 2)),     # the data ends earlier: its last quarter
    (date(2026, 12, 1), None, Quarter(2026, 3)),
])
def test_default_quarter_is_the_last_complete_one(today, last_day, expected):
    assert default_quarter(today, last_day) == expected


def test_review_file_name():
    assert review_file_name(Quarter(2026, 3)) == "dora-review-2026Q3.html"
    assert review_file_name(Quarter(2026, 3), "../<b> pay") == "dora-review-2026Q3-b-pay.html"


def test_batch_size_greys_small_buckets_and_draws_wilson_intervals():
    import pandas as pd

    from dashboard.catalog import COLOURS, NEUTRAL
    from dashboard.report import batch_figure
    from metrics.stats import wilson_interval

    part = pd.DataFrame({"bucket": ["1", "2–5", "16+"], "deployments": [100, 19, 0],
                         "failed_deployments": [5, 3, 0]})
    bar = batch_figure(part, "Changes per deployment").data[0]
    assert list(bar.x) == ["1", "2–5"]  # an empty bucket has no rate to draw
    assert list(bar.marker.color) == [COLOURS["change_failure_rate"], NEUTRAL]  # 19 < 20 deployments: grey
    interval = wilson_interval(5, 100)
    assert bar.y[0] == pytest.approx(5.0)
    assert bar.error_y.array[0] == pytest.approx((interval.high - 0.05) * 100)
    assert bar.error_y.arrayminus[0] == pytest.approx((0.05 - interval.low) * 100)
    assert list(bar.text) == ["5 of 100", "3 of 19"]


def test_an_unknown_service_is_named(db):
    result = run("report", "--quarter", "2026Q3", "--service", "nope", "--db", str(db))
    assert result.exit_code == 1
    assert "no data for service 'nope' in production; known: payments, search" in result.output
