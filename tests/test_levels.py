"""DORA levels and Quick Check scores: metric_levels.sql on literal metric_periods rows, then the CLI."""
from __future__ import annotations

import csv
import io

import duckdb
import pytest
from click.testing import CliRunner

from tools import cdevents as c
from dora.cli import main
from metrics.build import create_macros, run_model

# One literal period per case (month grain): service names the case. Columns as metric_periods has them.
PERIODS = [
    # service,   days, deployments, failed, unplanned, lead h, changes, deploy recovery min, n, incident min, n
    ("df_62",      31, 62, 0, 0, None, 0, None, 0, None, 0),
    ("df_61",      31, 61, 0, 0, None, 0, None, 0, None, 0),
    ("df_31",      31, 31, 0, 0, None, 0, None, 0, None, 0),
    ("df_5",       31, 5, 0, 0, None, 0, None, 0, None, 0),
    ("df_4",       31, 4, 0, 0, None, 0, None, 0, None, 0),
    ("df_1",       31, 1, 0, 0, None, 0, None, 0, None, 0),
    ("df_1_in_92", 92, 1, 0, 0, None, 0, None, 0, None, 0),
    ("df_0",       31, 0, 0, 0, 30.0, 3, None, 0, None, 0),
    ("lt_0.5",     31, 1, 0, 0, 0.5, 1, None, 0, None, 0),
    ("lt_1",       31, 1, 0, 0, 1.0, 1, None, 0, None, 0),
    ("lt_24",      31, 1, 0, 0, 24.0, 1, None, 0, None, 0),
    ("lt_168",     31, 1, 0, 0, 168.0, 1, None, 0, None, 0),
    ("lt_744",     31, 1, 0, 0, 744.0, 1, None, 0, None, 0),
    ("lt_4416",    31, 1, 0, 0, 4416.0, 1, None, 0, None, 0),
    ("cfr_0",      31, 20, 0, 5, None, 0, None, 0, None, 0),
    ("cfr_5",      31, 20, 1, 0, None, 0, None, 0, None, 0),
    ("cfr_7.5",    31, 40, 3, 0, None, 0, None, 0, None, 0),
    ("cfr_12",     31, 25, 3, 0, None, 0, None, 0, None, 0),
    ("cfr_14",     31, 50, 7, 0, None, 0, None, 0, None, 0),
    ("cfr_15",     31, 20, 3, 0, None, 0, None, 0, None, 0),
    ("cfr_18",     31, 50, 9, 0, None, 0, None, 0, None, 0),
    ("cfr_30",     31, 10, 3, 0, None, 0, None, 0, None, 0),
    ("cfr_50",     31, 10, 5, 0, None, 0, None, 0, None, 0),
    ("rec_30m",    31, 1, 1, 0, None, 0, 30.0, 1, 59.9, 1),
    ("rec_3h",     31, 1, 1, 0, None, 0, 180.0, 1, 60.0, 1),
    ("rec_3d",     31, 1, 1, 0, None, 0, 3 * 1440.0, 1, None, 0),
    ("rec_2w",     31, 1, 1, 0, None, 0, 14 * 1440.0, 1, None, 0),
    ("rec_2mo",    31, 1, 1, 0, None, 0, 60 * 1440.0, 1, None, 0),
]


@pytest.fixture(scope="module")
def levels() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("""
        CREATE TABLE metric_periods (
            grain VARCHAR, period_start DATE, service VARCHAR, environment VARCHAR, days BIGINT,
            deployments BIGINT, failed_deployments BIGINT, unplanned_deployments BIGINT,
            lead_time_median_hours DOUBLE, changes_deployed BIGINT,
            failed_deployment_recovery_median_minutes DOUBLE, failed_deployment_recoveries BIGINT,
            incident_recovery_median_minutes DOUBLE, incidents_resolved BIGINT,
            deploys_per_day DOUBLE, change_failure_rate DOUBLE, rework_rate DOUBLE)
    """)
    con.executemany(
        """INSERT INTO metric_periods VALUES ('month', DATE '2026-01-01', ?, 'production', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
               NULL, NULL, NULL)""", PERIODS)
    con.execute("""UPDATE metric_periods SET deploys_per_day = deployments / days,
                   change_failure_rate = failed_deployments / nullif(deployments, 0),
                   rework_rate = unplanned_deployments / nullif(deployments, 0)""")
    create_macros(con)
    run_model(con, "metrics", "metric_levels", {})
    yield con
    con.close()


def level(con, service: str, metric: str, report: str = "2024") -> tuple:
    rows = con.execute(
        "SELECT survey_answer, level, level_rule, quickcheck_score FROM metric_levels "
        "WHERE service = ? AND metric = ? AND report = ?", [service, metric, report]).fetchall()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize("service, answer, name", [
    ("df_62", 6, "elite"),       # 2 a day: on demand (multiple deploys per day)
    ("df_61", 5, "elite"),       # daily, not quite twice: once per hour to once per day
    ("df_31", 5, "elite"),
    ("df_5", 4, "high"),         # 5 in 31 days: at least weekly
    ("df_4", 3, "medium"),       # 4 in 31 days: weekly to monthly
    ("df_1", 3, "medium"),       # once in a 31-day month is "once per month"
    ("df_1_in_92", 2, "low"),    # once a quarter: monthly to every six months
    ("df_0", 1, "low"),          # none: worse than any level's range, the nearest is low
])
def test_deployment_frequency_buckets(levels, service, answer, name):
    got = level(levels, service, "deployment_frequency")
    assert got[:2] == (answer, name)
    assert got[3] == (answer - 1) * 2


@pytest.mark.parametrize("service, answer, name", [
    ("lt_0.5", 6, "elite"), ("lt_1", 5, "elite"), ("lt_24", 4, "high"), ("lt_168", 3, "medium"),
    ("lt_744", 2, "low"), ("lt_4416", 1, "low"),
])
def test_lead_time_buckets(levels, service, answer, name):
    assert level(levels, service, "lead_time")[:2] == (answer, name)


def test_lead_time_is_undefined_without_changes(levels):
    assert level(levels, "df_62", "lead_time") == (None, None, None, None)


@pytest.mark.parametrize("service, level_2024, level_2023", [
    ("cfr_0", "elite", "elite"),
    ("cfr_5", "elite", "elite"),
    ("cfr_7.5", "medium", "high"),   # midway between 5% and 10%: the lower level
    ("cfr_12", "medium", "high"),    # 2024: nearer medium's 10% than high's 20%
    ("cfr_14", "medium", "medium"),
    ("cfr_15", "medium", "medium"),  # 2024: midway between medium's 10% and high's 20%: medium, the lower level
    ("cfr_18", "high", "medium"),    # 2024: worse than medium's 10%, yet "high" - the report's own clusters
    ("cfr_30", "low", "medium"),
    ("cfr_50", "low", "low"),
])
def test_change_fail_rate_takes_the_nearest_typical_rate_each_report_on_its_own(levels, service, level_2024, level_2023):
    got = level(levels, service, "change_failure_rate", "2024")
    assert got[1:3] == (level_2024, "nearest_typical_rate") and got[0] is None
    assert level(levels, service, "change_failure_rate", "2023")[1] == level_2023


def test_rates_score_ten_minus_ten_times_the_rate(levels):
    assert level(levels, "cfr_18", "change_failure_rate")[3] == pytest.approx(8.2)
    assert level(levels, "cfr_0", "deployment_rework_rate") == (None, None, "no_levels", pytest.approx(7.5))


@pytest.mark.parametrize("service, report, answer, name, rule", [
    ("rec_30m", "2024", 6, "elite", "in_range"),
    ("rec_3h", "2024", 5, "high", "shared_range_best"),   # high and medium both "less than one day"
    ("rec_3d", "2024", 4, "low", "nearest_range"),        # between medium (< 1 day) and low (1 week+): ties go down
    ("rec_2w", "2024", 3, "low", "in_range"),
    ("rec_2mo", "2024", 2, "low", "nearest_range"),
    ("rec_3d", "2023", 4, "medium", "in_range"),
    ("rec_2w", "2023", 3, "low", "nearest_range"),        # between medium (4) and low (2)
    ("rec_2mo", "2023", 2, "low", "in_range"),
])
def test_recovery_levels(levels, service, report, answer, name, rule):
    assert level(levels, service, "failed_deployment_recovery_time", report)[:3] == (answer, name, rule)


def test_incident_recovery_uses_the_same_table_and_an_hour_is_not_less_than_an_hour(levels):
    assert level(levels, "rec_30m", "incident_recovery_time")[:2] == (6, "elite")
    assert level(levels, "rec_3h", "incident_recovery_time")[:2] == (5, "high")


def test_2023_shared_deploy_frequency_range_and_benchmarks(levels):
    assert level(levels, "df_4", "deployment_frequency", "2023")[1:3] == ("medium", "shared_range_best")
    assert level(levels, "df_1_in_92", "deployment_frequency", "2023")[1:3] == ("low", "nearest_range")
    rows = levels.execute("""SELECT DISTINCT metric, benchmark_2025_score FROM metric_levels ORDER BY 1""").fetchall()
    assert rows == [("change_failure_rate", pytest.approx(8.1)), ("deployment_frequency", 4.8),
                    ("deployment_rework_rate", pytest.approx(7.8)), ("failed_deployment_recovery_time", 7.4),
                    ("incident_recovery_time", 7.4), ("lead_time", 5.5)]
    assert levels.execute("SELECT score_vs_benchmark FROM metric_levels WHERE service = 'df_62' AND "
                          "metric = 'deployment_frequency' AND report = '2024'").fetchall() == [(pytest.approx(5.2),)]


def test_cli_levels_follows_the_configured_report(tmp_path):
    events = []
    for day in range(1, 29):  # February: one deployment a day, every one of them shipping one change
        shipped = f"2026-02-{day:02d}T12:00:00Z"
        events += [c.merged(id=f"m{day}", at=f"2026-02-{day:02d}T09:00:00Z", change=f"acme/pay#{day}",
                            repository="acme/pay", first_commit_at=f"2026-02-{day:02d}T08:00:00Z"),
                   c.deployed(id=f"d{day}", at=shipped, service="pay", repository="acme/pay",
                              changes=[f"acme/pay#{day}"])]
    # four rolled back, each 30 minutes after it finished
    events += [c.rolledback(id=f"rb{n}", at=f"2026-02-{n:02d}T12:30:00Z", service="pay") for n in (3, 10, 17, 24)]
    log = tmp_path / "events.jsonl"
    log.write_text(c.to_jsonl(events), encoding="utf-8")
    config = tmp_path / "dora.toml"
    config.write_text('[levels]\nreport = "2023"\n', encoding="utf-8")
    db = ["--db", str(tmp_path / "w.duckdb")]
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None})
    assert runner.invoke(main, ["ingest", "events", str(log), *db]).exit_code == 0
    # 28 deployments in 28 days: daily (answer 5, 8.0); lead time 4 hours (5, 8.0); 4 of 28 failed,
    # 14.3%: nearest 2024's medium (10%) and 2023's medium (15%); recovery 30 minutes (6, 10.0)
    shown = runner.invoke(main, ["levels", "--grain", "month", *db])
    assert shown.exit_code == 0, shown.output
    lines = shown.output.splitlines()
    assert lines[0].split() == ["period", "service", "deploy", "frequency", "lead", "time", "change", "fail", "rate",
                                "deploy", "recovery", "incident", "recovery", "rework", "rate"]
    assert lines[2].split() == ["2026-02-01", "all", "elite", "8.0", "elite", "8.0", "medium", "8.6",
                                "elite", "10.0", "–", "·", "10.0"]
    assert "Levels: DORA 2024 report" in shown.output  # no config given: the default
    configured = runner.invoke(main, ["levels", "--grain", "month", "--config", str(config), "--csv", *db])
    rows = list(csv.DictReader(io.StringIO(configured.output)))
    assert {r["report"] for r in rows} == {"2023"}
    cfr = next(r for r in rows if r["metric"] == "change_failure_rate")
    assert (cfr["value"], cfr["level"], cfr["level_rule"]) == ("0.14285714285714285", "medium", "nearest_typical_rate")
    assert rows[0]["definitions_version"] == "2"
    exported = runner.invoke(main, ["export", "--table", "levels", "--grain", "month", "--by", "service",
                                    "--config", str(config), *db])
    assert exported.exit_code == 0, exported.output
    out = list(csv.DictReader(io.StringIO(exported.output)))
    assert {(r["service"], r["report"]) for r in out} == {("pay", "2023")}
    assert [r["metric"] for r in out] == ["deployment_frequency", "lead_time", "change_failure_rate",
                                          "failed_deployment_recovery_time", "incident_recovery_time",
                                          "deployment_rework_rate"]
    overridden = runner.invoke(main, ["levels", "--grain", "month", "--report", "2024", "--config", str(config), *db])
    assert "Levels: DORA 2024 report" in overridden.output
    daily = runner.invoke(main, ["levels", "--grain", "day", *db])
    assert daily.exit_code == 1 and "levels are by week, month or quarter" in daily.output
    staging = runner.invoke(main, ["levels", "--environment", "staging", *db])
    assert staging.exit_code == 1 and "levels are for production only" in staging.output
