"""Progress a person can see (dora/cli/progress.py): the bytes read — of a known total, or alone for a
`.gz` file and stdin —, then what is left after the input (the build's models, publishing), and
nothing under -q or when stderr is not a terminal."""
from __future__ import annotations

import gzip
import importlib
import io

import pytest
from click.testing import CliRunner
from rich.console import Console

from dora.cli import main
from dora.cli.progress import AFTER_LOAD, BUILDING, PUBLISHING, RunProgress, format_bytes, show_progress
from tools import cdevents

EVENTS = [cdevents.deployed(id="d1", at="2026-03-02T10:00:00Z", service="api"),
          cdevents.merged(id="m1", at="2026-03-02T09:00:00Z", change="pr-1", repository="acme/api")]
# the module, not the `ingest` command group dora.cli exports under the same name
ingest_cli = importlib.import_module("dora.cli.ingest")
ENV = {"DORA_DB": None, "DORA_CONFIG": None, "DORA_MEMORY_LIMIT": None}


def screen() -> tuple[Console, io.StringIO]:
    """A terminal 120 columns wide whose output the test reads."""
    out = io.StringIO()
    return Console(file=out, force_terminal=True, width=120, color_system=None), out


def test_bytes_of_a_known_total_then_each_model_then_publishing():
    console, out = screen()
    with RunProgress(2_000_000, enabled=True, console=console) as progress:
        progress.on_bytes(1_500_000)
        progress.on_bytes(500_000)
        progress.on_load_done()
        progress.on_model(7, 19, "fct_failures")
        progress.on_publish()
    text = out.getvalue()
    assert "reading" in text and "2.0 MB of 2.0 MB" in text
    assert AFTER_LOAD in text  # between the input and the first model: never a bar standing still
    assert "building the metrics" in text and "7/19 fct_failures" in text
    assert "publishing the read snapshot" in text


def test_a_stream_or_gz_file_shows_the_bytes_read_without_a_total():
    console, out = screen()
    with RunProgress(None, enabled=True, console=console) as progress:
        progress.on_bytes(3_100_000)
    assert "3.1 MB read" in out.getvalue()
    assert " of " not in out.getvalue()


def test_disabled_draws_nothing():
    console, out = screen()
    with RunProgress(10, enabled=False, console=console) as progress:
        progress.on_bytes(10)
        progress.on_load_done()
    assert out.getvalue() == ""


def test_quiet_or_no_terminal_means_no_progress(monkeypatch):
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    assert show_progress(quiet=False)
    assert not show_progress(quiet=True)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False, raising=False)
    assert not show_progress(quiet=False)


@pytest.mark.parametrize(("n", "text"), [(0, "0 B"), (999, "999 B"), (61_200, "61.2 kB"),
                                          (612_400_000, "612.4 MB"), (2_448_984_563, "2.4 GB")])
def test_format_bytes(n, text):
    assert format_bytes(n) == text


def test_known_size_only_for_plain_files(tmp_path):
    plain = tmp_path / "a.jsonl"
    plain.write_text("{}\n")
    packed = tmp_path / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(b"{}\n"))
    assert ingest_cli.known_size((str(plain),)) == 3
    assert ingest_cli.known_size((str(plain), str(packed))) is None  # read size unknown ahead
    assert ingest_cli.known_size(("-",)) is None


def terminal_ingest(monkeypatch, args: list[str], stdin: bytes | None = None) -> str:
    """`dora ingest events ARGS` as on a terminal; what it drew on stderr."""
    console, out = screen()
    monkeypatch.setattr(ingest_cli, "show_progress", lambda quiet: not quiet)
    monkeypatch.setattr(ingest_cli, "RunProgress",
                        lambda total, enabled: RunProgress(total, enabled=enabled, console=console))
    result = CliRunner(env=ENV).invoke(main, ["ingest", "events", *args], input=stdin)
    assert result.exit_code == 0, result.output
    return out.getvalue()


def test_a_gz_file_and_stdin_show_bytes_read_then_what_is_left(tmp_path, monkeypatch):
    text = cdevents.to_jsonl(EVENTS).encode()
    packed = tmp_path / "events.jsonl.gz"
    packed.write_bytes(gzip.compress(text))
    drawn = terminal_ingest(monkeypatch, [str(packed), "--db", str(tmp_path / "a.duckdb")])
    assert f"{format_bytes(len(text))} read" in drawn  # uncompressed bytes, no total
    assert AFTER_LOAD in drawn
    drawn = terminal_ingest(monkeypatch, ["-", "--db", str(tmp_path / "b.duckdb")], stdin=text)
    assert f"{format_bytes(len(text))} read" in drawn
    assert AFTER_LOAD in drawn


def test_quiet_ingest_draws_nothing(tmp_path, monkeypatch):
    log = tmp_path / "events.jsonl"
    log.write_text(cdevents.to_jsonl(EVENTS))
    assert terminal_ingest(monkeypatch, [str(log), "--db", str(tmp_path / "a.duckdb"), "-q"]) == ""


def test_an_ingest_shows_each_model_it_builds_then_publishing(tmp_path, monkeypatch):
    log = tmp_path / "events.jsonl"
    log.write_text(cdevents.to_jsonl(EVENTS))
    drawn = terminal_ingest(monkeypatch, [str(log), "--db", str(tmp_path / "a.duckdb")])
    assert BUILDING in drawn and "fct_deployments" in drawn and "metric_periods" in drawn
    assert PUBLISHING in drawn
    assert drawn.index(BUILDING) < drawn.rindex(PUBLISHING)
