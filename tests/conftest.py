"""Shared test fixtures: a warehouse in a temp DuckDB file, loaded through the real ingest path."""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import duckdb
import pytest

from click.testing import CliRunner

from tools import cdevents
from dora.cli import main
from dora.jobs import run_eventlog_ingest
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings


class Warehouse:
    """A DuckDB file in tmp_path; `load` writes events as a JSON Lines file and ingests it for real."""

    def __init__(self, tmp_path: Path, settings: MetricSettings | None = None):
        self.tmp_path = tmp_path
        self.path = tmp_path / "dora.duckdb"
        self.settings = settings or MetricSettings()
        self.con: duckdb.DuckDBPyConnection = open_warehouse(self.path)
        self.files = 0

    def write(self, events: Iterable[dict | str], name: str | None = None) -> Path:
        """Write events (dicts, or raw text lines) to a new .jsonl file."""
        self.files += 1
        path = self.tmp_path / (name or f"events-{self.files}.jsonl")
        lines = [e if isinstance(e, str) else cdevents.to_jsonl([e]).rstrip("\n") for e in events]
        path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        return path

    def load(self, events: Iterable[dict | str], settings: MetricSettings | None = None):
        """Ingest events through dora.jobs (one transaction, metrics rebuilt); returns the Run."""
        return run_eventlog_ingest(self.con, self.path, [str(self.write(events))], settings or self.settings)

    def rows(self, sql: str, params=None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()

    def one(self, sql: str, params=None):
        rows = self.rows(sql, params)
        assert len(rows) == 1, rows
        return rows[0][0] if len(rows[0]) == 1 else rows[0]


@pytest.fixture
def wh(tmp_path: Path) -> Warehouse:
    warehouse = Warehouse(tmp_path)
    yield warehouse
    warehouse.con.close()


SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


@pytest.fixture(scope="session")
def sample_cli(tmp_path_factory: pytest.TempPathFactory):
    """The bundled sample (events, survey, annotations) loaded once through the real CLI; returns
    `run(*args, code=0)`, which runs a read command against it and returns its output. Read commands
    only: every test that takes it shares the one warehouse."""
    tmp = tmp_path_factory.mktemp("sample")
    db = ["--db", str(tmp / "sample.duckdb")]
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None, "DORA_CHUNK_BYTES": None})

    def run(*args: str, code: int = 0) -> str:
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(tmp)  # no user config leaks in
            result = runner.invoke(main, [*args, *db])
        assert result.exit_code == code, result.output
        return result.output

    run("ingest", "events", str(SAMPLE / "events.jsonl"), code=3)  # 3: the deliberately bad lines
    run("ingest", "survey", str(SAMPLE / "survey.csv"))
    run("annotate", "import", str(SAMPLE / "annotations.csv"))
    return run
