"""`dora ingest survey`: validation with reasons, idempotency, replacement, and satisfaction per period."""
from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from dora.cli import main
from core.errors import InputError
from dora.jobs_context import run_survey_ingest
from ingest.warehouse import open_warehouse, snapshot_path
from metrics.build import MetricSettings
from metrics.export import Filters
from metrics.survey import query_survey

SETTINGS = MetricSettings()


@pytest.fixture
def db(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    con = open_warehouse(path)
    yield path, con
    con.close()


def write(tmp_path: Path, text: str, name: str = "survey.csv") -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = """date,team,respondent,score,scale
2026-03-02,payments,r1,4,1-5
2026-03-02,payments,r2,2,1-5
2026-03-09,search,r1,5,1-5
"""


def responses(con) -> list[tuple]:
    return con.execute("SELECT response_date::VARCHAR, team, respondent, score, scale_min, scale_max "
                       "FROM survey_responses ORDER BY ALL").fetchall()


def test_valid_rows_load_and_reloading_changes_nothing(db, tmp_path):
    path, con = db
    file = write(tmp_path, GOOD)
    run = run_survey_ingest(con, path, file, SETTINGS)
    assert (run.counts.records, run.counts.loaded, run.counts.duplicates, run.counts.rejected) == (3, 3, 0, 0)
    first = responses(con)
    assert first == [("2026-03-02", "payments", "r1", 4.0, 1.0, 5.0), ("2026-03-02", "payments", "r2", 2.0, 1.0, 5.0),
                     ("2026-03-09", "search", "r1", 5.0, 1.0, 5.0)]
    again = run_survey_ingest(con, path, file, SETTINGS)
    assert (again.counts.loaded, again.counts.duplicates) == (0, 3)
    assert responses(con) == first
    runs = con.execute("SELECT origin, loaded, duplicates, outcome FROM ingest_runs ORDER BY run_id").fetchall()
    assert runs == [("survey", 3, 0, "ok"), ("survey", 0, 3, "ok")]
    assert snapshot_path(path).exists()


def test_a_later_file_replaces_an_answer(db, tmp_path):
    path, con = db
    run_survey_ingest(con, path, write(tmp_path, GOOD), SETTINGS)
    fix = write(tmp_path, "date,team,respondent,score,scale\n2026-03-02,payments,r2,3,1-5\n", "fix.csv")
    run = run_survey_ingest(con, path, fix, SETTINGS)
    assert (run.counts.loaded, run.counts.duplicates) == (1, 0)
    assert ("2026-03-02", "payments", "r2", 3.0, 1.0, 5.0) in responses(con)
    assert len(responses(con)) == 3


BAD = """date,team,respondent,score,scale
2026-03-02,payments,r1,4,1-5
2026-02-30,payments,r2,4,1-5
03/02/2026,payments,r3,4,1-5
,payments,r4,4,1-5
2026-03-02,,r5,4,1-5
2026-03-02,payments,,4,1-5
2026-03-02,payments,r6,6,1-5
2026-03-02,payments,r7,0,1-5
2026-03-02,payments,r8,four,1-5
2026-03-02,payments,r9,3,five
2026-03-02,payments,r10,3,5-1
2026-03-02,payments,r11,3
2026-03-02,payments,r12,3,1-5,extra
2026-03-02,payments,r1,5,1-5
2026-03-02,payments,r13,,1-5
2026-03-02,payments,r14,nan,1-5
"""


def test_bad_rows_are_rejected_with_reasons_and_the_good_ones_load(db, tmp_path):
    path, con = db
    file = write(tmp_path, BAD)
    run = run_survey_ingest(con, path, file, SETTINGS)
    assert (run.counts.records, run.counts.loaded, run.counts.rejected) == (16, 1, 15)
    assert run.counts.outcome == "rejects"
    rejects = con.execute("SELECT line_no, reason FROM rejects WHERE origin = 'survey' ORDER BY line_no").fetchall()
    assert rejects == [
        (3, 'date "2026-02-30" is not a date (YYYY-MM-DD)'),
        (4, 'date "03/02/2026" is not a date (YYYY-MM-DD)'),
        (5, "date is empty"),
        (6, "team is empty"),
        (7, "respondent is empty"),
        (8, "score 6 is outside the scale 1-5"),
        (9, "score 0 is outside the scale 1-5"),
        (10, 'score "four" is not a number'),
        (11, 'scale "five" is not LOW-HIGH (e.g. 1-5)'),
        (12, 'scale "5-1" must go from low to high (e.g. 1-5)'),
        (13, "has 4 fields, the header has 5"),
        (14, "has 6 fields, the header has 5"),
        (15, "repeats the date, team and respondent of line 2"),
        (16, "score is empty"),
        (17, 'score "nan" is not a number'),
    ]
    raw = con.execute("SELECT raw FROM rejects WHERE line_no = 8").fetchall()
    assert raw == [("2026-03-02,payments,r6,6,1-5",)]
    assert responses(con) == [("2026-03-02", "payments", "r1", 4.0, 1.0, 5.0)]
    # rerunning the same file keeps one copy of each reject
    run_survey_ingest(con, path, file, SETTINGS)
    assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(15,)]


def test_a_missing_column_fails_the_file_and_writes_nothing(db, tmp_path):
    path, con = db
    file = write(tmp_path, "date,team,respondent,rating\n2026-03-02,payments,r1,4\n")
    with pytest.raises(InputError, match=r"missing columns score, scale \(the header has: date, team, "
                                         r"respondent, rating\)"):
        run_survey_ingest(con, path, file, SETTINGS)
    assert responses(con) == []
    assert con.execute("SELECT outcome FROM ingest_runs").fetchall() == [("failed",)]


def test_scale_option_service_header_bom_and_quoted_fields(db, tmp_path):
    path, con = db
    file = tmp_path / "pulse.csv"
    file.write_bytes("\ufeffDate,Service,Respondent,Score\n2026-04-06,\"checkout\",\"a, b\",7.5\n".encode("utf-8"))
    run = run_survey_ingest(con, path, str(file), SETTINGS, default_scale="0-10")
    assert run.counts.loaded == 1
    assert responses(con) == [("2026-04-06", "checkout", "a, b", 7.5, 0.0, 10.0)]


def test_satisfaction_per_period_keeps_scales_apart(db, tmp_path):
    path, con = db
    run_survey_ingest(con, path, write(tmp_path, """date,team,respondent,score,scale
2026-03-02,payments,r1,4,1-5
2026-03-02,payments,r2,2,1-5
2026-03-30,search,r1,5,1-5
2026-04-06,search,r2,8,0-10
"""), SETTINGS)
    frame = query_survey(con, Filters(grain="month"))
    got = [(str(r.period_start.date()), r.team, r.responses, r.respondents, r.satisfaction_mean,
            r.satisfaction_median, r.satisfaction_share, r.scale_min, r.scale_max) for r in frame.itertuples()]
    assert got == [
        ("2026-03-01", "all", 3, 3, 11 / 3, 4.0, pytest.approx((0.75 + 0.25 + 1.0) / 3), 1.0, 5.0),
        ("2026-04-01", "all", 1, 1, 8.0, 8.0, 0.8, 0.0, 10.0),
    ]
    march = frame.iloc[0]
    assert march.satisfaction_sd == pytest.approx(((4 - 11 / 3) ** 2 + (2 - 11 / 3) ** 2 + (5 - 11 / 3) ** 2) ** 0.5
                                                  / 2 ** 0.5)
    by_team = query_survey(con, Filters(grain="quarter", by_service=True))
    assert [(r.team, r.responses, r.scale_max) for r in by_team.itertuples()] == [
        ("payments", 2, 5.0), ("search", 1, 5.0), ("search", 1, 10.0)]


def test_cli_ingest_survey_exit_codes_and_summary(tmp_path):
    db = tmp_path / "w.duckdb"
    runner = CliRunner(env={"DORA_DB": None, "DORA_CONFIG": None})
    good = runner.invoke(main, ["ingest", "survey", write(tmp_path, GOOD), "--db", str(db)])
    assert good.exit_code == 0, good.output
    assert good.output.startswith("run 1: 3 responses read, 3 new or changed, 0 unchanged, 0 rejected\n")
    bad = runner.invoke(main, ["ingest", "survey", write(tmp_path, BAD, "bad.csv"), "--db", str(db)])
    assert bad.exit_code == 3
    assert "rejected " + str(tmp_path / "bad.csv") + ":3: date \"2026-02-30\" is not a date (YYYY-MM-DD)" in bad.output
    assert "… and 5 more: `dora rejects --run 2`" in bad.output
    broken = runner.invoke(main, ["ingest", "survey", write(tmp_path, "when,who\n", "x.csv"), "--db", str(db)])
    assert broken.exit_code == 1
    assert "missing columns date, team, respondent, score, scale" in broken.output
    shown = runner.invoke(main, ["survey", "--grain", "month", "--db", str(db)])
    assert shown.exit_code == 0, shown.output
    # the bad file's one valid row repeats an answer already stored: still three answers, 4, 2 and 5
    assert shown.output.splitlines()[2].split() == ["2026-03-01", "all", "3", "3.67", "1.53", "4", "1-5"]
