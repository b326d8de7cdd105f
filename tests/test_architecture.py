"""The layers of docs/architecture.md, kept true: import-linter's contracts in pyproject.toml.

Data flows one way (core ← ingest ← metrics ← dashboard ← dora CLI; tools/ only for tests and
bench) and no two modules of a package import each other in a circle.
"""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold():
    result = subprocess.run(
        [sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                               "sys.exit(lint_imports(no_cache=True))"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout and "KEPT" in result.stdout


def test_contracts_cover_every_package():
    """A new top-level package must be placed in the layers, not slip past them."""
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests"}
    layers = config["tool"]["importlinter"]["contracts"][0]["layers"]
    placed = {name.strip() for layer in layers for name in layer.split("|")}
    assert packages <= placed, packages - placed


def test_pygithub_loads_only_where_github_is_read():
    """Every `dora` command imports ingest.github for dora.toml's settings; PyGithub and requests (a
    quarter of a second) load only when its client is first used, as in a nightly run with repositories."""
    code = ("import sys; from dora import cli, config, nightly; import ingest.github as gh; "
            "loaded = sorted({'github', 'requests'} & set(sys.modules)); "
            "gh.GitHubApi; assert 'github' in sys.modules; print(loaded)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
