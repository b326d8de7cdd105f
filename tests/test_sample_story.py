"""The real pipeline tells the bundled sample's story (data/sample/README.md).

The committed log goes through the real CLI (`dora ingest events`, then `dora export --grain
month`) into a temp DuckDB file, and the monthly CSV (contract §3 columns) is checked against the
story. "Before" is the first five months (2025-12 to 2026-04), "after" the last three (2026-09 to
2026-11). Tolerances are wide enough for the generator's randomness and narrow enough to catch a
definition that drifts (a lower median, counting incidents instead of failed deployments, an
attribution window that is ignored, staging counted as production):

| | before | after |
|---|---|---|
| deploys per day, pooled over the months | 0.75 – 1.2 | 18 – 22 in every month |
| change fail rate, pooled | 15% – 21% | 1.5% – 3% (no month above 3.5%) |
| median lead time, every month | 4 – 6 days | 30 – 60 minutes |
| median incident recovery, every month | 30 – 65 minutes | 1.5 – 6 minutes |
| median failed-deployment recovery, every month | 30 – 65 minutes | 1.5 – 6 minutes |
"""
from __future__ import annotations

import csv
from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "events.jsonl"
BEFORE = ("2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01")
PHASES = ("2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01")
AFTER = ("2026-09-01", "2026-10-01", "2026-11-01")
DAYS = {"2025-12-01": 31, "2026-01-01": 31, "2026-02-01": 28, "2026-03-01": 31, "2026-04-01": 30,
        "2026-09-01": 30, "2026-10-01": 31, "2026-11-01": 30}


@pytest.fixture(scope="module")
def months(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The monthly export of the ingested sample, keyed by period_start (service `all`)."""
    tmp = tmp_path_factory.mktemp("story")
    db, out = tmp / "sample.duckdb", tmp / "monthly.csv"
    # No user config or environment leaks in: run in an empty directory with DORA_* unset.
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_CHUNK_BYTES": None})
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        loaded = runner.invoke(main, ["ingest", "events", str(SAMPLE), "--db", str(db)])
        # 3 = loaded, with the sample's deliberately malformed lines rejected
        assert loaded.exit_code == 3, loaded.output
        exported = runner.invoke(main, ["export", "--grain", "month", "--db", str(db), "-o", str(out)])
        assert exported.exit_code == 0, exported.output
    with out.open(encoding="utf-8", newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["service"] == "all"]
    return {row["period_start"]: row for row in rows}


def value(row: dict[str, str], column: str) -> float:
    assert row[column] != "", f"{row['period_start']}: {column} is empty"
    return float(row[column])


def pooled(months: dict[str, dict[str, str]], periods: tuple[str, ...], numerator: str,
           denominator: str | None = None) -> float:
    top = sum(value(months[p], numerator) for p in periods)
    if denominator is None:
        return top / sum(DAYS[p] for p in periods)
    return top / sum(value(months[p], denominator) for p in periods)


def test_the_export_covers_the_whole_year(months: dict[str, dict[str, str]]) -> None:
    assert sorted(months) == sorted(BEFORE + PHASES + AFTER)
    assert all(row["definitions_version"] for row in months.values())


def test_before_they_deploy_weekly_in_big_risky_batches(months: dict[str, dict[str, str]]) -> None:
    assert 0.75 <= pooled(months, BEFORE, "deployments") <= 1.2
    assert 0.15 <= pooled(months, BEFORE, "failed_deployments", "deployments") <= 0.21
    for period in BEFORE:
        row = months[period]
        assert 96 <= value(row, "lead_time_median_hours") <= 144, period
        assert 30 <= value(row, "incident_recovery_median_minutes") <= 65, period
        assert 30 <= value(row, "failed_deployment_recovery_median_minutes") <= 65, period


def test_after_they_deploy_small_changes_all_day(months: dict[str, dict[str, str]]) -> None:
    assert 0.015 <= pooled(months, AFTER, "failed_deployments", "deployments") <= 0.03
    for period in AFTER:
        row = months[period]
        assert 18 <= value(row, "deploys_per_day") <= 22, period
        assert value(row, "change_failure_rate") <= 0.035, period
        assert 0.5 <= value(row, "lead_time_median_hours") <= 1.0, period
        assert 1.5 <= value(row, "incident_recovery_median_minutes") <= 6, period
        assert 1.5 <= value(row, "failed_deployment_recovery_median_minutes") <= 6, period


def test_the_phases_move_the_metrics_month_by_month(months: dict[str, dict[str, str]]) -> None:
    path = ("2026-04-01",) + PHASES + ("2026-09-01",)
    frequency = [value(months[p], "deploys_per_day") for p in path[1:]]
    lead_time = [value(months[p], "lead_time_median_hours") for p in path]
    failure = [value(months[p], "change_failure_rate") for p in path[1:]]
    assert frequency == sorted(frequency)
    assert lead_time == sorted(lead_time, reverse=True)
    assert failure == sorted(failure, reverse=True)
