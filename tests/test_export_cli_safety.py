"""`dora export` as a hostile new user tries it: -o over the warehouse, -o -, a bad --table (issue 11)."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main
from ingest.warehouse import snapshot_files, snapshot_path
from tools import cdevents as c


@pytest.fixture
def loaded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for var in ("DORA_DB", "DORA_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    log = tmp_path / "e.jsonl"
    log.write_text(c.to_jsonl([c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay"),
                               c.deployed(id="d2", at="2026-03-03T10:00:00Z", service="pay")]), encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(main, ["ingest", "events", str(log), "--db", "w.duckdb", "-q"]).exit_code == 0
    return runner, tmp_path / "w.duckdb"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("target", ["warehouse", "snapshot", "the snapshot's other file"])
def test_export_never_writes_over_the_warehouse_or_its_snapshot(loaded, target):
    runner, db = loaded
    path = {"warehouse": db, "snapshot": snapshot_path(db), "the snapshot's other file": snapshot_files(db)[1]}[target]
    before = digest(path) if path.exists() else None  # the other file appears at the next publish
    result = runner.invoke(main, ["export", "--db", str(db), "-o", str(path)])
    assert result.exit_code == 1
    assert "refusing to write over" in result.output
    assert (digest(path) if path.exists() else None) == before


def test_export_dash_writes_stdout_not_a_file_named_dash(loaded):
    runner, db = loaded
    result = runner.invoke(main, ["export", "--db", str(db), "-o", "-", "--grain", "month"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0].startswith("period_start,service,deployments,deploys_per_day,observed_days")
    assert not (db.parent / "-").exists()


def test_export_into_a_missing_folder_is_one_clear_error(loaded):
    runner, db = loaded
    result = runner.invoke(main, ["export", "--db", str(db), "-o", "nodir/x.csv"])
    assert result.exit_code == 1
    assert "nodir does not exist" in result.output
    assert "Traceback" not in result.output


def test_an_unknown_table_is_a_usage_error(loaded):
    runner, db = loaded
    result = runner.invoke(main, ["export", "--db", str(db), "--table", "nonsense"])
    assert result.exit_code == 2
    assert "'nonsense' is not one of" in result.output


def test_a_reader_that_goes_away_early_stops_the_export_quietly(tmp_path):
    import subprocess
    import sys
    log = tmp_path / "e.jsonl"
    # six years apart: a row per day is far more than a pipe holds, so `head -1` leaves mid-write
    log.write_text(c.to_jsonl([c.deployed(id="d1", at="2020-01-06T10:00:00Z", service="pay"),
                               c.deployed(id="d2", at="2026-03-02T10:00:00Z", service="pay")]), encoding="utf-8")
    db = tmp_path / "w.duckdb"
    subprocess.run([sys.executable, "-m", "dora", "ingest", "events", str(log), "--db", str(db), "-q"], check=True)
    done = subprocess.run(f"{sys.executable} -m dora export --db {db} --grain day --by service | head -1",
                          shell=True, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.startswith("period_start,")
    assert done.stderr == ""


@pytest.mark.parametrize("window", ["garbage", "2026-03-31..2026-01-01", "2026-02-30..2026-03-31"])
def test_a_malformed_compare_window_is_a_usage_error(loaded, window):
    runner, db = loaded
    result = runner.invoke(main, ["compare", "--db", str(db), "--before", window, "--after", "2026-03-01..2026-03-31"])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--before'" in result.output and "Traceback" not in result.output
