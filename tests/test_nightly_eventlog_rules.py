"""`dora nightly` reads event-log files by the same v2 rules as `dora ingest events`: dora.toml's
[eventlog] bounds, and stored events staged by older rules staged again."""
from __future__ import annotations

from datetime import date

from dora.nightly import run_nightly
from ingest import eventlog
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings
from tools import cdevents as c


def test_nightly_applies_the_configured_earliest_plausible_day(tmp_path):
    log = tmp_path / "deploys.jsonl"
    log.write_text(c.to_jsonl([c.deployed(id="old", at="2019-06-03T10:00:00Z", service="pay"),
                               c.deployed(id="new", at="2026-03-02T10:00:00Z", service="pay")]))
    con = open_warehouse(tmp_path / "dora.duckdb")
    bounds = eventlog.TimeBounds(earliest=date(2020, 1, 1))
    result = run_nightly(con, tmp_path / "dora.duckdb", eventlog_paths=[str(log)], github=None, token=None,
                         settings=MetricSettings(), bounds=bounds).sources[0]
    assert (result.loaded, result.rejected) == (1, 1)
    [(reason,)] = con.execute("SELECT reason FROM rejects").fetchall()
    assert "2020-01-01" in reason


def test_nightly_restages_events_staged_by_older_rules(tmp_path):
    log = tmp_path / "deploys.jsonl"
    log.write_text(c.to_jsonl([c.deployed(id="d1", at="2026-03-02T10:00:00Z", service="pay",
                                          traffic_percent=5)]))
    db = tmp_path / "dora.duckdb"
    con = open_warehouse(db)
    run_nightly(con, db, eventlog_paths=[str(log)], github=None, token=None, settings=MetricSettings())
    # as a version-1 warehouse would have it: no traffic staged, no staging version recorded
    con.execute("UPDATE stg_events SET traffic_percent = NULL")
    con.execute("DELETE FROM staging_versions")
    run_nightly(con, db, eventlog_paths=[str(log)], github=None, token=None, settings=MetricSettings())
    assert con.execute("SELECT traffic_percent FROM stg_events").fetchall() == [(5.0,)]
    assert con.execute("SELECT max_traffic_percent FROM fct_deployments").fetchall() == [(5.0,)]
