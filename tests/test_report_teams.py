"""`dora report --team`: the quarterly review of one team's services together — its numbers,
comparisons and story from the team's facts (as `dora export --team` computes them), batch size
pooled over its services, the tables without team figures attached per service of the team."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from tests.test_dashboard_fixture import build_warehouse, dashboard_events, later_events
from tests.test_report import attachments, run

QUARTER = ("--from", "2026-07-01", "--to", "2026-09-30")


@pytest.fixture(scope="module")
def setup(tmp_path_factory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("report-teams")
    db = build_warehouse(folder, dashboard_events() + later_events())
    for name, day in (("Phase 1", "2026-04-20"), ("Phase 2", "2026-06-15")):
        assert run("annotate", "add", name, "--date", day, "--db", str(db), "-q").exit_code == 0
    config = folder / "dora.toml"
    config.write_text('[[teams]]\nname = "everyone"\nservices = ["payments", "search"]\n\n'
                      '[[teams]]\nname = "pay"\nservices = ["payments"]\n', encoding="utf-8")
    return db, config


def review(setup, *args: str) -> str:
    db, config = setup
    out = db.parent / f"review-{'-'.join(args)}.html"
    result = run("report", "--quarter", "2026Q3", *args, "-o", str(out), "--db", str(db), "--config", str(config))
    assert result.exit_code == 0, result.output
    return out.read_text(encoding="utf-8")


def export(setup, *args: str) -> str:
    db, config = setup
    result = run("export", "--grain", "quarter", *args, *QUARTER, "--db", str(db), "--config", str(config), "-q")
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_team_s_review_is_its_exported_figures(setup):
    page = review(setup, "--team", "pay")
    assert "<h1>Delivery review 2026 Q3: team pay</h1>" in page
    files = attachments(page)
    assert files["dora-2026Q3-summary.csv"] == export(setup, "--team", "pay")
    assert files["dora-2026Q3-summary-by-service.csv"] == export(setup, "--team", "pay", "--by", "service")
    assert files["dora-2026Q3-batch-size.csv"] == export(setup, "--table", "batch-size", "--team", "pay",
                                                         "--by", "service")
    compared = list(csv.DictReader(io.StringIO(files["dora-2026Q3-compare-baseline.csv"])))
    assert compared and {row["team"] for row in compared} == {"pay"}


def test_a_team_s_batch_size_adds_up_its_services_deployments(setup):
    db, config = setup
    out = db.parent / "everyone-q2.html"  # the quarter both services deployed in
    result = run("report", "--quarter", "2026Q2", "--team", "everyone", "-o", str(out), "--db", str(db),
                 "--config", str(config))
    assert result.exit_code == 0, result.output
    page = out.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(attachments(page)["dora-2026Q2-batch-size.csv"])))
    assert {row["service"] for row in rows} == {"payments", "search"}
    pooled: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        counts = pooled.setdefault((row["dimension"], row["bucket"]), [0, 0])
        counts[0] += int(float(row["failed_deployments"] or 0))  # written as 2.0 where a bucket has gaps
        counts[1] += int(float(row["deployments"] or 0))
    section = page.split("id=batch-size", 1)[1].split("id=files", 1)[0]
    drawn = [(d, b) for (d, b), (_, n) in pooled.items() if n and d in ("changes", "lines", "cadence")]
    assert len(drawn) >= 2
    for dimension, bucket in drawn:
        failed, deployments = pooled[(dimension, bucket)]
        assert f"{failed} of {deployments:,}" in section, (dimension, bucket)  # each bar's label


def test_a_team_and_a_service_are_two_scopes(setup):
    db, config = setup
    both = run("report", "--quarter", "2026Q3", "--team", "pay", "--service", "payments", "--db", str(db),
               "--config", str(config), "-o", str(db.parent / "x.html"))
    assert both.exit_code == 1 and "--service and --team choose two scopes" in both.output
    unknown = run("report", "--quarter", "2026Q3", "--team", "ops", "--db", str(db), "--config", str(config),
                  "-o", str(db.parent / "y.html"))
    assert unknown.exit_code == 1 and "no team 'ops'; teams: everyone, pay" in unknown.output
    assert not (db.parent / "x.html").exists() and not (db.parent / "y.html").exists()
