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
| failed deployments caught in rollout | none (before Phase 3, every month) | 35% – 70% pooled, some every month |

Caught in rollout per phase (phase dates from the sample's annotations, by the deployment's finish,
read from `fct_failures`): none in the baseline, Phase 1 or Phase 2; from Phase 3 on at least 30% of
each phase's failed deployments, each with a blast radius of 5 or 25 and a median recovery of
1.5 – 6 minutes.
"""
from __future__ import annotations

import csv
import statistics
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from dora.cli import main
from tools import samplegen

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "events.jsonl"
BEFORE = ("2025-12-01", "2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01")
PHASES = ("2026-05-01", "2026-06-01", "2026-07-01", "2026-08-01")
AFTER = ("2026-09-01", "2026-10-01", "2026-11-01")
DAYS = {"2025-12-01": 31, "2026-01-01": 31, "2026-02-01": 28, "2026-03-01": 31, "2026-04-01": 30,
        "2026-09-01": 30, "2026-10-01": 31, "2026-11-01": 30}


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample ingested and exported through the CLI: the warehouse, beside it monthly.csv."""
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
    return db


@pytest.fixture(scope="module")
def months(warehouse: Path) -> dict[str, dict[str, str]]:
    """The monthly export of the ingested sample, keyed by period_start (service `all`)."""
    with (warehouse.parent / "monthly.csv").open(encoding="utf-8", newline="") as f:
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


def test_failures_are_caught_in_rollout_only_once_rollouts_exist(months: dict[str, dict[str, str]]) -> None:
    for period in BEFORE + ("2026-05-01", "2026-06-01"):  # Phase 3 starts on 2026-07-13
        assert value(months[period], "failed_deployments_caught_in_rollout") == 0, period
    for period in AFTER:
        assert value(months[period], "failed_deployments_caught_in_rollout") >= 1, period
    assert 0.35 <= pooled(months, AFTER, "failed_deployments_caught_in_rollout", "failed_deployments") <= 0.7


def test_caught_in_rollout_per_phase(warehouse: Path) -> None:
    starts = [("baseline", "2025-12-01")] + [(a.name.split(":")[0], a.on.isoformat()) for a in samplegen.PHASES]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        failures = con.sql("""
            SELECT strftime(finished_at, '%Y-%m-%d') AS day, caught_in_rollout, blast_radius_percent,
                   recovery_minutes
            FROM fct_failures WHERE environment = 'production'""").fetchall()
    phases: dict[str, list[tuple]] = {}
    for day, caught, radius, minutes in failures:
        phase = [name for name, start in starts if start <= day][-1]
        phases.setdefault(phase, []).append((caught, radius, minutes))
    assert sorted(phases) == sorted(name for name, _ in starts)
    for phase in ("baseline", "Phase 1", "Phase 2"):
        assert not any(caught for caught, _, _ in phases[phase]), phase
    for phase in ("Phase 3", "Phase 4"):
        rows = phases[phase]
        caught = [m for c, _, m in rows if c]
        assert len(caught) >= 0.3 * len(rows), (phase, len(caught), len(rows))
        assert {r for c, r, _ in rows if c} <= {5, 25}, phase
        assert 1.5 <= statistics.median(caught) <= 6, phase


def test_incidents_that_start_mid_rollout_blame_that_rollout(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        mid_rollout = con.sql("""
            SELECT count(*) FROM fct_incidents i JOIN fct_deployments d USING (deployment_key)
            WHERE i.caused_by_deployment IS NULL AND i.caused_by_change IS NULL AND i.caused_by_commit IS NULL
              AND i.started_at > d.exposed_at AND i.started_at < d.finished_at""").fetchall()[0][0]
    assert mid_rollout >= 3  # the sample's own truth: the generator checked each is the rollout at fault
