"""`dora nightly`: event-log files read incrementally (append, partial line, rotation in its three
forms, a moved folder, truncation),
GitHub repositories, one summary line per source, exit codes, and the [github] configuration."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from tools import cdevents as c
from dora.cli import main
from dora.config import load_config
from core.errors import ConfigError
from dora.nightly import run_nightly
from ingest.warehouse import open_warehouse
from metrics.build import MetricSettings
from tests.fakegithub import FakeGitHub, build_history, write_config


def deploy(i: int, service: str = "payments") -> str:
    event = c.deployed(id=f"d{i}", at=f"2026-03-{1 + i % 28:02d}T10:00:00Z", service=service)
    return c.to_jsonl([event])


def nightly(con, db: Path, paths: list[str]):
    return run_nightly(con, db, eventlog_paths=paths, github=None, token=None, settings=MetricSettings())


@pytest.fixture
def db(tmp_path: Path):
    path = tmp_path / "dora.duckdb"
    con = open_warehouse(path)
    yield con, path
    con.close()


def test_appended_lines_are_read_once_with_their_line_numbers(db, tmp_path):
    con, path = db
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1) + deploy(2))
    first = nightly(con, path, [str(log)]).sources[0]
    assert (first.outcome, first.records, first.loaded) == ("ok", 2, 2)
    with log.open("a") as fh:
        fh.write(deploy(3) + "not json\n")
    second = nightly(con, path, [str(log)]).sources[0]
    assert (second.outcome, second.records, second.loaded, second.rejected) == ("rejects", 2, 1, 1)
    assert con.execute("SELECT line_no, reason FROM rejects").fetchall() == [(4, "not valid JSON")]
    third = nightly(con, path, [str(log)]).sources[0]
    assert (third.records, third.loaded) == (0, 0)
    assert con.execute("SELECT offset_bytes, line_no FROM eventlog_files").fetchall() == [(log.stat().st_size, 4)]


def test_a_half_written_last_line_waits_for_the_next_run(db, tmp_path):
    con, path = db
    log = tmp_path / "deploys.jsonl"
    line = deploy(2)
    log.write_text(deploy(1) + line[:30])
    assert nightly(con, path, [str(log)]).sources[0].records == 1
    with log.open("a") as fh:
        fh.write(line[30:])
    result = nightly(con, path, [str(log)]).sources[0]
    assert (result.records, result.loaded, result.rejected) == (1, 1, 0)
    assert con.execute("SELECT count(*) FROM rejects").fetchall() == [(0,)]


def rejects(con) -> list[tuple]:
    return con.execute("SELECT file, line_no, raw FROM rejects ORDER BY file, line_no").fetchall()


def read_log_with_a_bad_line(con, path: Path, tmp_path: Path) -> tuple[Path, str]:
    """deploys.jsonl, a deployment then a malformed line, read once through the glob deploys.jsonl*."""
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1) + "not json\n")
    pattern = str(tmp_path / "deploys.jsonl*")
    nightly(con, path, [pattern])
    return log, pattern


def test_a_log_renamed_by_logrotate_resumes_where_it_was_left_under_its_new_name(db, tmp_path):
    con, path = db
    log, pattern = read_log_with_a_bad_line(con, path, tmp_path)
    rotated = tmp_path / "deploys.jsonl.1"
    with log.open("a") as fh:
        fh.write(deploy(2))                                # written after the last run ...
    os.rename(log, rotated)                                # ... then logrotate moves the file away
    log.write_text(deploy(3))                              # and a new one starts
    result = nightly(con, path, [pattern]).sources[0]
    # the renamed file is read from where it was left: its bad line is not rejected again
    assert (result.outcome, result.files, result.records, result.loaded, result.duplicates, result.rejected) == (
        "ok", 2, 2, 2, 0, 0)
    assert rejects(con) == [(str(log), 2, "not json")]
    assert con.execute("SELECT count(*) FROM raw_events").fetchall() == [(3,)]
    assert nightly(con, path, [pattern]).sources[0].records == 0


def test_a_moved_log_folder_is_not_read_again(db, tmp_path):
    con, path = db
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "deploys.jsonl").write_text(deploy(1) + "not json\n" + deploy(2))
    nightly(con, path, [str(tmp_path / "logs" / "*.jsonl")])
    os.rename(tmp_path / "logs", tmp_path / "archive")
    result = nightly(con, path, [str(tmp_path / "archive" / "*.jsonl")]).sources[0]
    assert (result.outcome, result.records, result.rejected) == ("ok", 0, 0)
    assert len(rejects(con)) == 1


def test_a_copy_made_by_copytruncate_is_read_only_past_what_was_read(db, tmp_path):
    con, path = db
    log, pattern = read_log_with_a_bad_line(con, path, tmp_path)
    copy = tmp_path / "deploys.jsonl.1"
    copy.write_bytes(log.read_bytes() + deploy(2).encode())  # logrotate copies the file as it is now ...
    log.write_text("")                                       # ... and empties it in place
    with log.open("a") as fh:
        fh.write(deploy(3))
    result = nightly(con, path, [pattern]).sources[0]
    assert (result.records, result.loaded, result.duplicates, result.rejected) == (2, 2, 0, 0)
    assert rejects(con) == [(str(log), 2, "not json")]
    assert con.execute("SELECT line_no FROM eventlog_files WHERE path = ?", [str(copy)]).fetchall() == [(3,)]


def test_a_rotated_log_compressed_and_renamed_again_is_not_read_again(db, tmp_path):
    con, path = db
    log, pattern = read_log_with_a_bad_line(con, path, tmp_path)
    rotated = tmp_path / "deploys.jsonl.1"
    os.rename(log, rotated)                                 # rotated ...
    nightly(con, path, [pattern])
    with gzip.open(tmp_path / "deploys.jsonl.2.gz", "wb") as fh:  # ... compressed (delaycompress) ...
        fh.write(rotated.read_bytes() + deploy(2).encode())  # (a line the plain file got after its read)
    rotated.unlink()
    result = nightly(con, path, [pattern]).sources[0]
    assert (result.records, result.loaded, result.rejected) == (1, 1, 0)
    os.rename(tmp_path / "deploys.jsonl.2.gz", tmp_path / "deploys.jsonl.3.gz")  # ... and renamed again
    assert nightly(con, path, [pattern]).sources[0].records == 0
    assert rejects(con) == [(str(log), 2, "not json")]


def test_a_new_file_sharing_only_its_first_line_with_one_read_is_read_whole(db, tmp_path):
    con, path = db
    (tmp_path / "a.jsonl").write_text(deploy(1) + deploy(2) + deploy(3))
    nightly(con, path, [str(tmp_path / "a.jsonl")])
    (tmp_path / "b.jsonl").write_text(deploy(1) + deploy(4) + deploy(5) + deploy(6))  # not a copy of a.jsonl
    with gzip.open(tmp_path / "c.jsonl.gz", "wt") as fh:
        fh.write(deploy(1) + deploy(7))
    result = nightly(con, path, [str(tmp_path / "b.jsonl"), str(tmp_path / "c.jsonl.gz")])
    assert [(s.records, s.loaded, s.duplicates) for s in result.sources] == [(4, 3, 1), (2, 1, 1)]


LOGROTATE = shutil.which("logrotate") or "/usr/sbin/logrotate"  # root's PATH has /usr/sbin, others' may not


@pytest.mark.skipif(not os.path.exists(LOGROTATE), reason="needs logrotate (apt-get install logrotate)")
def test_nights_between_real_logrotate_runs_read_each_line_once_and_reject_it_once(db, tmp_path):
    con, path = db
    logs = tmp_path / "logs"
    logs.mkdir()
    log, state, conf = logs / "deploys.jsonl", tmp_path / "logrotate.state", tmp_path / "logrotate.conf"
    # a common Debian setup: the file moved away and a new one created, compressed a rotation later
    conf.write_text(f"{log} {{\n  rotate 3\n  compress\n  delaycompress\n  create\n}}\n")
    log.write_text(deploy(1) + "not json\n")
    pattern = str(logs / "deploys.jsonl*")
    nights = [nightly(con, path, [pattern]).sources[0]]
    for night in (2, 3, 4):
        subprocess.run([LOGROTATE, "--force", "--state", str(state), str(conf)], check=True)
        with log.open("a") as fh:
            fh.write(deploy(night))
        nights.append(nightly(con, path, [pattern]).sources[0])
    assert sorted(p.name for p in logs.iterdir()) == [
        "deploys.jsonl", "deploys.jsonl.1", "deploys.jsonl.2.gz", "deploys.jsonl.3.gz"]
    assert [(n.outcome, n.records, n.loaded, n.rejected) for n in nights] == [
        ("rejects", 2, 1, 1), ("ok", 1, 1, 0), ("ok", 1, 1, 0), ("ok", 1, 1, 0)]
    assert rejects(con) == [(str(log), 2, "not json")]


def test_a_warehouse_made_before_the_last_line_was_hashed_reads_on(db, tmp_path):
    con, path = db
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1))
    nightly(con, path, [str(log)])
    con.execute("ALTER TABLE eventlog_files DROP COLUMN last_line_sha")  # as the code before made it
    with log.open("a") as fh:
        fh.write(deploy(2))
    result = nightly(con, path, [str(log)]).sources[0]
    assert (result.records, result.loaded) == (1, 1)
    assert con.execute("SELECT line_no, last_line_sha IS NOT NULL FROM eventlog_files").fetchall() == [(2, True)]


def test_a_truncated_log_is_read_from_the_start(db, tmp_path):
    con, path = db
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1) + deploy(2) + deploy(3))
    nightly(con, path, [str(log)])
    log.write_text(deploy(4))                              # copytruncate: same file, shorter
    result = nightly(con, path, [str(log)]).sources[0]
    assert (result.records, result.loaded) == (1, 1)
    # truncated, then grown past the old offset: the first line tells it is not the file we read
    log.write_text(deploy(5) + deploy(6) + deploy(7) + deploy(8))
    result = nightly(con, path, [str(log)]).sources[0]
    assert (result.records, result.loaded) == (4, 4)
    assert con.execute("SELECT count(*) FROM raw_events").fetchall() == [(8,)]


def test_gzip_logs_are_read_once(db, tmp_path):
    con, path = db
    log = tmp_path / "old.jsonl.gz"
    with gzip.open(log, "wt") as fh:
        fh.write(deploy(1) + deploy(2))
    assert nightly(con, path, [str(log)]).sources[0].loaded == 2
    assert nightly(con, path, [str(log)]).sources[0].records == 0


def test_a_missing_file_fails_its_source_and_the_others_still_load(db, tmp_path):
    con, path = db
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1))
    result = nightly(con, path, [str(tmp_path / "missing.jsonl"), str(tmp_path / "none-*.jsonl"), str(log)])
    assert [(s.outcome, s.message) for s in result.sources] == [
        ("failed", f"cannot read {tmp_path / 'missing.jsonl'}: No such file or directory"),
        ("ok", "no files match"), ("ok", None)]
    assert result.failed and result.metrics_ok
    assert con.execute("SELECT count(*) FROM fct_deployments").fetchall() == [(1,)]


# ------------------------------------------------------------------------------------------------
# The command


@pytest.fixture
def fake():
    with FakeGitHub() as server:
        server.add(build_history("acme/payments", n_prs=10, n_deployments=4, n_incidents=2).repo)
        yield server


def test_nightly_prints_one_json_line_per_source_under_cron_and_exits_1_if_one_failed(fake, tmp_path):
    log = tmp_path / "deploys.jsonl"
    log.write_text(deploy(1, "ledger"))
    config = tmp_path / "dora.toml"
    write_config(config, fake, ["acme/payments", "acme/nope"], db=str(tmp_path / "d.duckdb"), eventlog=[str(log)])
    result = CliRunner().invoke(main, ["nightly", "--config", str(config)], env={"GITHUB_TOKEN": fake.token})
    lines = [json.loads(line) for line in result.output.splitlines()]
    assert result.exit_code == 1
    assert [(x.get("kind"), x.get("name"), x["outcome"]) for x in lines] == [
        ("eventlog", str(log), "ok"), ("github", "acme/payments", "ok"), ("github", "acme/nope", "failed"),
        ("metrics", None, "ok")]
    payments = lines[1]
    assert payments["loaded"] == payments["records"] > 0 and payments["calls"] == 4
    assert payments["streams"] == {"commits": payments["streams"]["commits"], "pulls": 10, "deployments": 4,
                                   "issues:incident": 3}
    assert payments["rest_remaining"] < 5000 and payments["graphql_remaining"] < 5000
    assert lines[2]["message"] == "repository acme/nope not found, or the token cannot read it; skipped"


def test_nightly_text_summary_and_a_clean_second_run(fake, tmp_path):
    config = tmp_path / "dora.toml"
    write_config(config, fake, ["acme/payments"], db=str(tmp_path / "d.duckdb"))
    runner = CliRunner()
    env = {"GITHUB_TOKEN": fake.token}
    first = runner.invoke(main, ["nightly", "--config", str(config), "--format", "text"], env=env)
    assert first.exit_code == 0, first.output
    second = runner.invoke(main, ["nightly", "--config", str(config), "--format", "text"], env=env)
    line, metrics = second.output.splitlines()
    assert line.startswith("github acme/payments: ok, ")
    assert ", 0 rejected; " in line and " API calls; rate limit left: REST " in line
    assert metrics == "metrics: rebuilt"


def test_missing_token_and_nothing_to_read_give_one_clear_message(fake, tmp_path):
    config = tmp_path / "dora.toml"
    write_config(config, fake, ["acme/payments"], db=str(tmp_path / "d.duckdb"))
    result = CliRunner().invoke(main, ["ingest", "github", "--config", str(config)],
                                env={"GITHUB_TOKEN": "", "GH_TOKEN": ""})
    assert result.exit_code == 1
    assert result.output.startswith("Error: no GitHub token: set GITHUB_TOKEN (or GH_TOKEN)")
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = CliRunner().invoke(main, ["nightly", "--config", str(empty)])
    assert result.exit_code == 1 and "nothing to read" in result.output
    assert fake.count() == 0


def test_gh_token_is_accepted_too_and_repositories_can_be_named(fake, tmp_path):
    config = tmp_path / "dora.toml"
    write_config(config, fake, [], db=str(tmp_path / "d.duckdb"))
    result = CliRunner().invoke(main, ["ingest", "github", "acme/payments", "--config", str(config)],
                                env={"GITHUB_TOKEN": "", "GH_TOKEN": fake.token})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.splitlines()[0])["name"] == "acme/payments"


# ------------------------------------------------------------------------------------------------
# Configuration


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "dora.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    return str(exc.value)


def test_github_config_is_parsed_with_defaults_for_every_repository(tmp_path):
    path = tmp_path / "dora.toml"
    path.write_text("""
[github]
base_url = "https://github.example.com/api/v3"
lookback_days = 5
incident_labels = ["incident", "outage"]
repositories = ["acme/payments"]

[[github.repositories]]
name = "acme/platform"
deployments = "workflow_runs"
[[github.repositories.services]]
name = "ledger"
paths = ["services/ledger/"]
workflows = ["deploy-ledger.yml"]
""".replace('repositories = ["acme/payments"]\n', ""))
    github = load_config(path).github
    assert github.client.base_url == "https://github.example.com/api/v3" and github.lookback_days == 5
    (platform,) = github.repositories
    assert platform.service is None and platform.incident_labels == ("incident", "outage")
    assert platform.streams() == ["commits", "pulls", "workflow_runs:deploy-ledger.yml", "issues:incident",
                                  "issues:outage"]
    path.write_text('[github]\nincident_labels = []\nrepositories = ["acme/ledger"]\n')
    assert load_config(path).github.repositories[0].streams() == ["commits", "pulls", "deployments"]
    path.write_text('[github]\nrepositories = ["acme/payments"]\n')
    (payments,) = load_config(path).github.repositories
    assert (payments.service, payments.environments, payments.production_branch) == (
        "payments", ("prod", "production"), "main")


def test_github_config_is_strict(tmp_path):
    assert "unknown key github.token (tokens come only from GITHUB_TOKEN or GH_TOKEN) (known: " in config_error(
        tmp_path, '[github]\ntoken = "ghp_x"\n')
    assert "unknown key github.repositories[acme/x].token (tokens come only from GITHUB_TOKEN or GH_TOKEN)" in (
        config_error(tmp_path, '[[github.repositories]]\nname = "acme/x"\ntoken = "ghp_x"\n'))
    assert "dora.toml:5: unknown key github.repositories[acme/y].services[api].port (known: " in config_error(
        tmp_path, '[[github.repositories]]\nname = "acme/x"\n[[github.repositories]]\nname = "acme/y"\n'
        'services = [{ name = "api", port = 1 }]\n')
    assert "unknown key github.repositories[acme/x].enviroments" in config_error(
        tmp_path, '[[github.repositories]]\nname = "acme/x"\nenviroments = ["production"]\n')
    assert 'needs workflows = ["deploy.yml"]' in config_error(
        tmp_path, '[[github.repositories]]\nname = "acme/x"\ndeployments = "workflow_runs"\n')
    assert "is not `owner/name`" in config_error(tmp_path, '[github]\nrepositories = ["payments"]\n')
    assert "lists Acme/X twice" in config_error(tmp_path, '[github]\nrepositories = ["acme/x", "Acme/X"]\n')


def test_the_shipped_example_config_is_valid():
    root = Path(__file__).resolve().parent.parent
    config = load_config(root / "dora.example.toml")
    assert [r.name for r in config.github.repositories] == ["acme/payments", "acme/web", "acme/platform"]
    assert [s.name for s in config.github.repositories[2].services] == ["billing", "search"]
    for name in ("crontab", "dora-nightly.service", "github-actions-nightly.yml"):
        assert "dora nightly" in (root / "examples" / name).read_text(encoding="utf-8")
    assert "OnCalendar=" in (root / "examples" / "dora-nightly.timer").read_text(encoding="utf-8")


def test_progress_on_a_terminal_is_a_bar_then_the_summary_line(capsys):
    from dora.cli.sources import Reporter
    from dora.nightly import SourceResult

    reporter = Reporter("text", quiet=False)
    reporter.progress = True  # as on a terminal
    reporter({"event": "progress", "source": "acme/payments", "stream": "pulls", "done": 50, "total": 100})
    reporter({"event": "progress", "source": "acme/payments", "stream": "issues:incident", "done": 7, "total": None})
    reporter({"event": "source_done", "result": SourceResult(
        "github", "acme/payments", records=57, loaded=50, replaced=7, calls=3, rest_remaining=4990,
        graphql_remaining=4980, seconds=1.25)})
    out, err = capsys.readouterr()
    assert "acme/payments pulls [###############---------------] 50/100" in err
    assert "acme/payments issues:incident: 7" in err
    assert out == ("github acme/payments: ok, 57 records (50 new, 7 seen before and replaced), 0 rejected; "
                   "3 API calls; rate limit left: REST 4990, GraphQL 4980; 1.2 s\n")
