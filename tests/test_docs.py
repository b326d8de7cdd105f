"""Every command, metric column and metric table is documented (docs fail when something is added)."""
from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from dora.cli import COMMANDS, main
from ingest.warehouse import open_warehouse
from metrics.build import MODELS, MetricSettings, build_metrics
from metrics.export import TABLES

DOCS = Path(__file__).resolve().parent.parent / "docs"


def all_docs() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(DOCS.glob("*.md")))


def command_paths(group: click.Group, prefix: str = "") -> list[str]:
    """Every command's path, as the user types it (the `dora` group loads its commands on demand)."""
    ctx = click.Context(group)
    paths = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path + " "))
        else:
            paths.append(path)
    return paths


def test_every_command_is_found():
    paths = command_paths(main)
    assert {path.split()[0] for path in paths} == set(COMMANDS) and "ingest events" in paths


@pytest.mark.parametrize("command", command_paths(main))
def test_every_command_is_in_docs_cli(command):
    assert f"dora {command}" in (DOCS / "cli.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", command_paths(main))
def test_every_command_help_has_an_example(command):
    cmd = main
    for part in command.split():
        cmd = cmd.get_command(click.Context(cmd), part)
    assert "Example" in (cmd.help or ""), f"dora {command} --help has no example"


def built_columns(tmp_path) -> dict[str, list[str]]:
    con = open_warehouse(tmp_path / "w.duckdb")
    build_metrics(con, MetricSettings())
    return {m: [r[0] for r in con.execute(f"DESCRIBE {m}").fetchall()] for m in MODELS}


def test_every_metric_table_and_column_is_documented(tmp_path):
    docs = all_docs()
    missing = []
    for model, columns in built_columns(tmp_path).items():
        if f"`{model}`" not in docs:
            missing.append(model)
        if model.startswith("metric_"):
            missing += [f"{model}.{c}" for c in columns
                        if c not in {"grain", "period_start", "service", "environment", "days"}
                        and f"`{c}`" not in docs]
    assert not missing, f"undocumented in docs/: {missing}"


def test_every_export_table_is_documented():
    docs = all_docs()
    assert [t for t in TABLES if f"--table {t}" not in docs] == []


def test_readme_commands_are_the_makefile_targets():
    root = DOCS.parent
    readme = (root / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"^make (\w+)", readme, flags=re.M)
    assert commands[:2] == ["demo", "test"]
    makefile = (root / "Makefile").read_text(encoding="utf-8")
    assert all(re.search(rf"^{c}:", makefile, flags=re.M) for c in commands)
    assert "make test" in (root / ".ci" / "run").read_text(encoding="utf-8")
