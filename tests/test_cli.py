"""The `dora` command as users run it: exit codes, messages, config precedence, CSV on stdout."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from tools import cdevents as c
from dora.cli import main
from dora.config import load_config

REQUIRED = ["period_start", "service", "deployments", "deploys_per_day", "observed_days", "lead_time_median_hours",
            "change_failure_rate", "failed_deployments", "incident_recovery_median_minutes",
            "failed_deployment_recovery_median_minutes", "rework_rate"]


@pytest.fixture
def runner(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG", "DORA_CHUNK_BYTES"):
        monkeypatch.delenv(var, raising=False)
    return CliRunner()


def write_log(path: Path, extra: list[str] = ()) -> Path:
    events = [
        c.merged(id="m1", at="2026-03-02T08:00:00Z", change="acme/pay#1", first_commit_at="2026-03-01T10:00:00Z"),
        c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay", changes=["acme/pay#1"]),
        c.deployed(id="d2", at="2026-04-02T10:00:00Z", service="pay"),
        c.incident_detected(id="i1", at="2026-04-02T10:30:00Z", incident="INC-1", service="pay"),
        c.incident_resolved(id="i2", at="2026-04-02T11:15:00Z", incident="INC-1"),
    ]
    path.write_text(c.to_jsonl(events) + "".join(line + "\n" for line in extra))
    return path


def test_help_shows_examples_and_exit_codes(runner):
    result = runner.invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "Examples:" in result.output and "dora ingest events deploys.jsonl" in result.output
    assert "3  loaded, but some records were rejected" in result.output


@pytest.mark.parametrize("command", [["ingest", "events"], ["metrics"], ["export"], ["rejects"]])
def test_every_command_help_has_examples(runner, command):
    result = runner.invoke(main, command + ["--help"])
    assert result.exit_code == 0 and "Examples:" in result.output


def test_clean_ingest_exits_0_with_a_summary(runner, tmp_path):
    log = write_log(tmp_path / "e.jsonl")
    result = runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ("run 1: 5 records read, 5 new events loaded, 0 duplicates ignored, "
                             "0 of unknown types kept raw, 0 rejected\n")
    assert Path("w.duckdb").exists() and Path("w.snapshot.duckdb").exists()


def test_quiet_ingest_prints_nothing_when_all_is_well(runner, tmp_path):
    log = write_log(tmp_path / "e.jsonl")
    result = runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb", "--quiet"])
    assert (result.exit_code, result.output) == (0, "")


def test_ingest_with_rejects_exits_3_and_lists_them(runner, tmp_path):
    log = write_log(tmp_path / "e.jsonl", extra=["{oops", "[]"])
    result = runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb", "-q"])
    assert result.exit_code == 3
    assert f"rejected {log}:6: not valid JSON" in result.stderr
    assert f"rejected {log}:7: not a CDEvent: the line is a JSON array, not an object" in result.stderr
    listed = runner.invoke(main, ["rejects", "--db", "w.duckdb"])
    assert listed.exit_code == 0 and "not valid JSON" in listed.output and "{oops" in listed.output


def test_missing_file_is_a_usage_error_and_writes_nothing(runner):
    result = runner.invoke(main, ["ingest", "events", "nope.jsonl", "--db", "w.duckdb"])
    assert result.exit_code == 2
    assert "nope.jsonl is not a file" in result.output
    assert not Path("w.duckdb").exists()


def test_stdin_is_read_with_dash(runner, tmp_path):
    text = write_log(tmp_path / "e.jsonl").read_text()
    result = runner.invoke(main, ["ingest", "events", "-", "--db", "w.duckdb", "-q"], input=text)
    assert result.exit_code == 0, result.output
    exported = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "month"])
    assert [r["deployments"] for r in csv.DictReader(io.StringIO(exported.stdout))] == ["1", "1"]


def test_export_writes_the_contract_columns_with_empty_cells_for_undefined(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    result = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "month"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0])[:len(REQUIRED)] == REQUIRED
    assert "definitions_version" in rows[0]
    assert [(r["period_start"], r["service"], r["deployments"], r["lead_time_median_hours"],
             r["change_failure_rate"], r["incident_recovery_median_minutes"],
             r["failed_deployment_recovery_median_minutes"]) for r in rows] == [
        ("2026-03-01", "all", "1", "24.0", "0.0", "", ""),
        ("2026-04-01", "all", "1", "", "1.0", "45.0", "75.0"),
    ]


def test_export_to_a_file_and_by_service(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    result = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "quarter", "--by", "service",
                                  "-o", "q.csv"])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(open("q.csv")))
    assert [(r["period_start"], r["service"], r["deployments"]) for r in rows] == [
        ("2026-01-01", "pay", "1"), ("2026-04-01", "pay", "1")]


def test_unknown_service_is_one_clear_error(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    result = runner.invoke(main, ["export", "--db", "w.duckdb", "--service", "nope"])
    assert result.exit_code == 1
    assert result.output == "Error: no data for service 'nope' in production; known: pay\n"


def test_metrics_table(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    result = runner.invoke(main, ["metrics", "--db", "w.duckdb", "--grain", "month"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() [:3] == ["period", "service", "deploys"]
    assert lines[2].split()[:5] == ["2026-03-01", "all", "1", "0.03", "24.0"]
    # the data ends on 2 April: April's one deployment over its 2 observed days
    assert lines[3].split()[:7] == ["2026-04-01", "all", "1", "0.50", "–", "100.0%", "1"]


def test_metrics_without_a_warehouse_says_what_to_run(runner):
    result = runner.invoke(main, ["metrics", "--db", "missing.duckdb"])
    assert result.exit_code == 1
    assert "no warehouse at missing.duckdb: load data first, e.g. `dora ingest events FILE`" in result.output


def test_db_precedence_flag_over_env_over_file_over_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DORA_CONFIG", raising=False)
    Path("dora.toml").write_text('[warehouse]\npath = "from-file.duckdb"\n')
    assert load_config(env={}).db_path == Path("from-file.duckdb")
    assert load_config(env={"DORA_DB": "from-env.duckdb"}).db_path == Path("from-env.duckdb")
    assert load_config(db_flag="flag.duckdb", env={"DORA_DB": "from-env.duckdb"}).db_path == Path("flag.duckdb")
    Path("dora.toml").unlink()
    assert load_config(env={}).db_path == Path("data/dora.duckdb")


@pytest.mark.parametrize("toml,message", [
    ("[metrics]\ntimezone = \"Mars/Base\"\n", "metrics.timezone 'Mars/Base' is not an IANA time zone"),
    ("[metrics]\nattribution_window_hours = -1\n", "metrics.attribution_window_hours must be a whole number"),
    ("[metrics]\nproduction_environments = []\n", "metrics.production_environments must be a non-empty list"),
    ("[metrics]\nwindow = 3\n", "dora.toml:2: unknown key metrics.window (known: attribution_window_hours, "),
    ("# settings\n[metric]\nwindow = 3\n", "dora.toml:2: unknown section [metric] (known: [warehouse], [metrics], "),
    ("[levels]\nreport = 2022\n", "dora.toml:2: levels.report must be one of 2023, 2024 (got '2022')"),
    ("[metrics\n", "is not valid TOML"),
])
def test_config_errors_are_one_clear_message(runner, toml, message):
    Path("dora.toml").write_text(toml)
    result = runner.invoke(main, ["metrics"])
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output


def test_settings_change_is_refused_by_readers_until_dora_build(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    Path("dora.toml").write_text("[metrics]\nattribution_window_hours = 0\n")
    stale = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "month"])
    assert stale.exit_code == 1 and "not built for the current metric settings" in stale.output
    assert "run `dora build`" in stale.output
    built = runner.invoke(main, ["build", "--db", "w.duckdb"])
    assert built.exit_code == 0 and built.output == "metrics rebuilt; read snapshot published\n"
    result = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "month"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[1]["failed_deployments"] == "0"  # the incident is 30 min after: outside a 0 h window


def test_bad_chunk_setting_is_rejected(runner, tmp_path, monkeypatch):
    monkeypatch.setenv("DORA_CHUNK_BYTES", "tiny")
    result = runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    assert result.exit_code == 1 and "DORA_CHUNK_BYTES must be a whole number" in result.output


def test_an_empty_warehouse_prints_one_line_and_exports_the_header_only(runner, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    runner.invoke(main, ["ingest", "events", str(empty), "--db", "w.duckdb", "-q"])
    message = ("No data: no deployment, change or incident is stored in any environment "
               "(load some: dora ingest events FILE).")
    result = runner.invoke(main, ["metrics", "--db", "w.duckdb"])
    assert (result.exit_code, result.output) == (0, message + "\n")
    exported = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "day", "-q"])
    assert exported.exit_code == 0
    assert exported.stdout.splitlines() == [exported.stdout.splitlines()[0]]  # the header, no period rows
    assert exported.stdout.startswith("period_start,service,deployments,deploys_per_day,observed_days,")
    assert exported.stderr == message + " Wrote the header row only.\n"


def test_a_misspelt_environment_names_the_environments_with_data(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    message = "No data for environment 'prodution'; environments with data: production."
    result = runner.invoke(main, ["metrics", "--db", "w.duckdb", "--environment", "prodution"])
    assert (result.exit_code, result.output) == (0, message + "\n")
    exported = runner.invoke(main, ["export", "--db", "w.duckdb", "--environment", "prodution", "-o", "x.csv"])
    assert exported.exit_code == 0 and exported.stderr == message + " Wrote the header row only to x.csv.\n"
    assert len(Path("x.csv").read_text().splitlines()) == 1
    explained = runner.invoke(main, ["explain", "deployments", "--db", "w.duckdb", "--period", "2026-03-01",
                                     "--environment", "prodution"])
    assert (explained.exit_code, explained.output) == (0, message + "\n")
    unknown = runner.invoke(main, ["explain", "deployments", "--db", "w.duckdb", "--period", "2026-03-01",
                                   "--service", "nope"])
    assert unknown.exit_code == 1
    assert unknown.output == "Error: no data for service 'nope' in production; known: pay\n"


def test_every_exported_row_names_definitions_version_2(runner, tmp_path):
    runner.invoke(main, ["ingest", "events", str(write_log(tmp_path / "e.jsonl")), "--db", "w.duckdb"])
    for table in ("summary", "lead-time-breakdown", "levels"):
        result = runner.invoke(main, ["export", "--db", "w.duckdb", "--grain", "month", "--table", table])
        rows = list(csv.DictReader(io.StringIO(result.stdout)))
        assert rows and {r["definitions_version"] for r in rows} == {"2"}, table
