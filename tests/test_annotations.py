"""Annotations: import with validation, idempotency, add / list / remove, through the CLI and the jobs."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main
from core.errors import DoraError, InputError
from dora.jobs_context import run_annotation_add, run_annotation_remove, run_annotations_import
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings
from metrics.compare import query_annotations

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample" / "annotations.csv"
SETTINGS = MetricSettings()


@pytest.fixture
def db(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    yield path, con
    con.close()


def stored(con) -> list[tuple]:
    return [(r.id, str(r.starts_on), r.name, r.service, r.description) for r in query_annotations(con).itertuples()]


def test_the_sample_file_imports_its_phases_and_reimporting_changes_nothing(db):
    path, con = db
    run = run_annotations_import(con, path, str(SAMPLE), SETTINGS)
    assert (run.counts.records, run.counts.loaded, run.counts.rejected) == (5, 5, 0)
    rows = stored(con)
    assert [(r[1], r[2], r[3]) for r in rows] == [
        ("2026-05-25", "Phase 1: remove manual gates", None),
        ("2026-06-15", "Phase 2: fast reliable tests", None),
        ("2026-06-22", "notifications joins the shared CD pipeline", "notifications"),
        ("2026-07-13", "Phase 3: progressive delivery", None),
        ("2026-08-10", "Phase 4: feature flags", None),
    ]
    again = run_annotations_import(con, path, str(SAMPLE), SETTINGS)
    assert (again.counts.loaded, again.counts.duplicates) == (0, 5)
    assert stored(con) == rows


def test_bad_rows_are_rejected_and_a_moved_date_updates_in_place(db, tmp_path):
    path, con = db
    first = tmp_path / "a.csv"
    first.write_text("date,name,service,description\n2026-05-25,Gates removed,,first try\n", encoding="utf-8")
    run_annotations_import(con, path, str(first), SETTINGS)
    (ident,) = [r[0] for r in stored(con)]
    second = tmp_path / "b.csv"
    second.write_text(
        "date,name,service,description\n"
        "2026-05-26,Gates removed,,moved a day\n"       # same name, org-wide: moves, keeps its id
        "2026-05-26,Gates removed,payments,\n"          # same name for one service: a second annotation
        "2026-13-01,Bad month,,\n"
        ",No date,,\n"
        "2026-06-01,,,\n"
        "2026-06-01,12345,,\n"
        "2026-06-02,Twice,,\n"
        "2026-06-03,Twice,,\n"
        "2026-06-04,\"Quoted, with a comma\",search,\"multi\nline\"\n",
        encoding="utf-8")
    run = run_annotations_import(con, path, str(second), SETTINGS)
    assert (run.counts.records, run.counts.loaded, run.counts.rejected) == (9, 4, 5)
    reasons = con.execute("SELECT line_no, reason FROM rejects ORDER BY line_no").fetchall()
    assert reasons == [
        (4, 'date "2026-13-01" is not a date (YYYY-MM-DD)'),
        (5, "date is empty"),
        (6, "name is empty"),
        (7, 'name "12345" is only digits; use words'),
        (9, "repeats the name and service of line 8"),
    ]
    rows = stored(con)
    assert (ident, "2026-05-26", "Gates removed", None, "moved a day") in rows
    assert [r[1:4] for r in rows] == [
        ("2026-05-26", "Gates removed", None), ("2026-05-26", "Gates removed", "payments"),
        ("2026-06-02", "Twice", None), ("2026-06-04", "Quoted, with a comma", "search"),
    ]
    assert rows[-1][4] == "multi\nline"


def test_add_and_remove_through_the_jobs(db):
    path, con = db
    ident = run_annotation_add(con, path, SETTINGS, "  Phase 1  ", date(2026, 5, 25), None, None)
    with pytest.raises(DoraError, match=r"annotation 'Phase 1' for the organisation already exists \(id 1, "
                                        r"2026-05-25\); remove it first"):
        run_annotation_add(con, path, SETTINGS, "Phase 1", date(2026, 6, 1), None, None)
    run_annotation_add(con, path, SETTINGS, "Phase 1", date(2026, 6, 1), "payments", "its own")
    with pytest.raises(InputError, match="only digits"):
        run_annotation_add(con, path, SETTINGS, "2026", date(2026, 6, 1), None, None)
    with pytest.raises(DoraError, match=r"2 annotations are named 'Phase 1' \(id 1 for the organisation; "
                                        r"id 2 for service 'payments'\): remove one by its id"):
        run_annotation_remove(con, path, SETTINGS, "Phase 1")
    removed = run_annotation_remove(con, path, SETTINGS, str(ident))
    assert removed["name"].tolist() == ["Phase 1"]
    assert [r[1:4] for r in stored(con)] == [("2026-06-01", "Phase 1", "payments")]
    with pytest.raises(DoraError, match="no annotation 'nope'"):
        run_annotation_remove(con, path, SETTINGS, "nope")
    outcomes = con.execute("SELECT target, outcome FROM ingest_runs ORDER BY run_id").fetchall()
    assert outcomes == [("add Phase 1", "ok"), ("add Phase 1", "failed"), ("add Phase 1", "ok"),
                        ("add 2026", "failed"), ("remove Phase 1", "failed"), ("remove 1", "ok"),
                        ("remove nope", "failed")]


def test_cli_annotate_commands(tmp_path):
    db = str(tmp_path / "w.duckdb")
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None})

    def dora(*args):
        return runner.invoke(main, [*args, "--db", db])

    imported = dora("annotate", "import", str(SAMPLE))
    assert imported.exit_code == 0, imported.output
    assert imported.output == "run 1: 5 annotations read, 5 new or changed, 0 unchanged, 0 rejected\n"
    added = dora("annotate", "add", "Pager rota", "--date", "2026-09-07", "--service", "search",
                 "--description", "A second on-call")
    assert added.output == "added annotation 6: 2026-09-07 Pager rota (service search)\n"
    listed = dora("annotate", "list", "--service", "search")
    lines = listed.output.splitlines()
    assert lines[0].split() == ["id", "date", "service", "name", "description"]
    assert [line.split()[:3] for line in lines[2:]] == [
        ["1", "2026-05-25", "(all)"], ["2", "2026-06-15", "(all)"], ["4", "2026-07-13", "(all)"],
        ["5", "2026-08-10", "(all)"], ["6", "2026-09-07", "search"]]
    as_csv = dora("annotate", "list", "--csv")
    assert as_csv.output.splitlines()[0] == "id,date,name,service,description"
    assert as_csv.output.splitlines()[3].startswith("3,2026-06-22,notifications joins the shared CD pipeline,notifications,")
    removed = dora("annotate", "remove", "Pager rota")
    assert removed.output == "removed annotation 6: 2026-09-07 Pager rota\n"
    missing = dora("annotate", "remove", "Pager rota")
    assert missing.exit_code == 1 and "no annotation 'Pager rota'" in missing.output
    bad = tmp_path / "bad.csv"
    bad.write_text("date,name\n2026-02-30,Leap\n", encoding="utf-8")
    rejected = dora("annotate", "import", str(bad))
    assert rejected.exit_code == 3
    assert f'rejected {bad}:2: date "2026-02-30" is not a date (YYYY-MM-DD)' in rejected.output
    nameless = tmp_path / "nameless.csv"
    nameless.write_text("date,title\n2026-02-03,Leap\n", encoding="utf-8")
    failed = dora("annotate", "import", str(nameless))
    assert failed.exit_code == 1 and "missing column name (the header has: date, title)" in failed.output


def test_a_warehouse_from_before_annotations_reads_as_having_none():
    import duckdb

    con = duckdb.connect()  # no schema at all, as a read-only snapshot of an old warehouse
    frame = query_annotations(con)
    assert frame.empty and list(frame.columns) == ["id", "name", "starts_on", "service", "description", "created_at"]
