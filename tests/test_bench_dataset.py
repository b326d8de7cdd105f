"""The benchmark's log generator (bench/make_dataset.py) and the memory cap the benchmark documents.

The generator's own record of what it wrote (dataset.json) must be what the real ingest finds in the
log: otherwise the benchmark would time something other than it says.
"""
from __future__ import annotations

import importlib.util
from pathlib import Path

from click.testing import CliRunner

from dora.cli import main
from dora.jobs import run_eventlog_ingest
from ingest.warehouse import open_warehouse, snapshot_path
from metrics.build import MetricSettings

ROOT = Path(__file__).resolve().parent.parent


def load_generator():
    spec = importlib.util.spec_from_file_location("make_dataset", ROOT / "bench" / "make_dataset.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def generate(out: Path, seed: int = 7) -> dict:
    import json

    load_generator().main(["--scale", "0.002", "--seed", str(seed), "--out", str(out), "--no-warehouse"])
    return json.loads((out / "dataset.json").read_text())


def test_the_log_holds_exactly_what_the_generator_says(tmp_path):
    shape = generate(tmp_path / "log")
    db = tmp_path / "dora.duckdb"
    con = open_warehouse(db)
    run = run_eventlog_ingest(con, db, [str(tmp_path / "log" / "events.jsonl")], MetricSettings())
    c = run.counts
    assert (c.records, c.loaded, c.duplicates, c.rejected, c.unknown_types) == (
        shape["lines"], shape["events"], shape["repeated_lines"], shape["malformed_lines"], 0)

    def count(sql):
        return con.execute(sql).fetchall()[0][0]

    assert count("SELECT count(*) FROM fct_deployments WHERE environment = 'production'") == shape["production_deployments"]
    assert count("SELECT count(*) FROM fct_deployments WHERE environment = 'staging'") == shape["staging_deployments"]
    assert count("SELECT count(*) FROM fct_deployments WHERE unplanned AND environment = 'production'") == \
        shape["unplanned_deployments"]
    assert count("SELECT count(*) FROM fct_changes") == shape["changes_merged"]
    assert count("SELECT count(*) FROM fct_incidents") == shape["incidents"]
    assert count("SELECT count(*) FROM fct_incidents WHERE resolved_at IS NOT NULL") == shape["incidents_resolved"]
    assert count("SELECT count(*) FROM fct_incidents WHERE attribution_rule = 'caused_by_deployment'") == \
        shape["incidents_caused_by_deployment"]
    assert count("SELECT count(*) FROM fct_incidents WHERE attribution_rule = 'caused_by_commit'") == \
        shape["incidents_caused_by_commit"]
    assert count("SELECT count(*) FROM fct_rollbacks WHERE rule = 'rolled_back_deployment'") == \
        shape["rollbacks_naming_target"]
    assert count("SELECT count(*) FROM fct_rollbacks") == shape["rollbacks"]
    con.close()


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    generate(tmp_path / "c", seed=8)
    a, b, c = ((tmp_path / d / "events.jsonl").read_bytes() for d in "abc")
    assert a == b
    assert a != c


def test_memory_limit_from_the_environment_and_a_clear_error_for_a_bad_one(tmp_path):
    db = tmp_path / "dora.duckdb"
    open_warehouse(db).close()
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_MEMORY_LIMIT": "lots"})
    result = runner.invoke(main, ["build", "--db", str(db)])  # a writer
    assert result.exit_code == 1
    assert "DORA_MEMORY_LIMIT='lots' is not a memory size, e.g. 1.5GB" in result.output
    assert not snapshot_path(db).exists()
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_MEMORY_LIMIT": "512MB"})
    assert runner.invoke(main, ["build", "--db", str(db)]).exit_code == 0  # publishes the read snapshot
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_MEMORY_LIMIT": "lots"})
    result = runner.invoke(main, ["metrics", "--db", str(db)])  # a reader of the snapshot
    assert result.exit_code == 1
    assert "DORA_MEMORY_LIMIT='lots' is not a memory size, e.g. 1.5GB" in result.output
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_MEMORY_LIMIT": "512MB"})
    result = runner.invoke(main, ["metrics", "--db", str(db)])
    assert result.exit_code == 0, result.output
