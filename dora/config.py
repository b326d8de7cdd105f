"""dora.toml: where the warehouse is, how the metrics are defined, what the nightly job reads.

Precedence for every setting: command-line flag > environment variable > dora.toml > default.
Only the CLI reads this module; the layers below take plain arguments. Secrets (GitHub tokens) are
never read from the file: only from the environment. What a valid file is: dora/config_schema.py.
A problem is reported as `<file>:<line>: <key> …`, every problem of the file at once.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from core.errors import ConfigError
from dora import config_schema as schema
from ingest.eventlog import TimeBounds
from ingest.github import GitHubSettings, RepoSettings
from metrics.build import MetricSettings
from metrics.filters import Team
from metrics.goals import Goals

DEFAULT_CONFIG = Path("dora.toml")
DEFAULT_DB = Path("data/dora.duckdb")


@dataclass
class Config:
    """The settings in force, with the file they came from (None: defaults only)."""

    source: Path | None
    db_path: Path
    metrics: MetricSettings
    eventlog_paths: list[str]
    eventlog_bounds: TimeBounds = field(default_factory=TimeBounds)  # [eventlog] earliest, max_future_hours
    github: GitHubSettings = field(default_factory=GitHubSettings)  # [github]: docs/github.md
    file: schema.DoraToml = field(default_factory=schema.DoraToml)  # the file's tables, validated
    teams: tuple[Team, ...] = ()  # [[teams]], their repositories resolved to services
    goals: Goals = field(default_factory=Goals)  # [goals] and [teams.goals]

    def name_repository(self, name: str) -> RepoSettings:
        """A repository named on the command line, with the [github] defaults of the file."""
        try:
            return schema.name_repository(name, self.file.github, self.metrics)
        except schema.InvalidSettings as exc:
            raise ConfigError(describe_problems(exc.problems, self.source, "", {})) from None


def read_toml(path: Path) -> tuple[str, dict[str, Any]]:
    """The text of a TOML file and what it says, its errors turned into one message naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
        return text, tomllib.loads(text)
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} not found") from exc
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                          "save the file as UTF-8") from exc
    except (tomllib.TOMLDecodeError, IsADirectoryError) as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from exc


def load_config(
    config_path: str | Path | None = None, db_flag: str | Path | None = None,
    env: Mapping[str, str] = os.environ,
) -> Config:
    """Settings from the flag, the environment (DORA_CONFIG, DORA_DB) and the file, in that order."""
    path: Path | None = Path(config_path or env.get("DORA_CONFIG") or DEFAULT_CONFIG)
    explicit = bool(config_path or env.get("DORA_CONFIG"))
    text, data = "", {}
    if explicit or path.exists():
        text, data = read_toml(path)
    else:
        path = None
    try:
        doc = schema.read_file(data)
        metrics = schema.to_metric_settings(doc)
        github = schema.to_github_settings(doc, metrics)
        eventlog_bounds = schema.to_time_bounds(doc)
        teams = schema.to_teams(doc, github)
        goals = schema.to_goals(doc)
    except schema.InvalidSettings as exc:
        raise ConfigError(describe_problems(exc.problems, path, text, data)) from None
    for given, where in ((db_flag, "--db"), (doc.warehouse.path, None)):  # an empty DORA_DB is unset
        if given is not None and not str(given).strip():
            line = find_line(key_lines(text), ("warehouse", "path")) if where is None else None
            raise ConfigError(f"{path}:{line}: warehouse.path is empty: give a file path or leave the key out"
                              if where is None else f"{where} is empty: give the warehouse's file path")
    return Config(
        source=path,
        db_path=Path(db_flag or env.get("DORA_DB") or doc.warehouse.path or DEFAULT_DB),
        metrics=metrics,
        eventlog_paths=list(doc.eventlog.paths or []),
        eventlog_bounds=eventlog_bounds,
        github=github,
        file=doc,
        teams=teams,
        goals=goals,
    )


# --------------------------------------------------------------------------------------------
# Naming the key and its line (tomllib gives no positions: the text is scanned for them)


def describe_problems(problems: list[schema.Problem], path: Path | None, text: str, data: Mapping[str, Any]) -> str:
    """One line per problem, in file order: `<file>:<line>: <message naming the key>`."""
    lines = key_lines(text)
    described = []
    for problem in problems:
        line = find_line(lines, problem.loc)
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        described.append((line or 0, where + problem.message.replace("{key}", name_key(problem.loc, data))))
    return "\n".join(message for _, message in sorted(described, key=lambda d: d[0]))


def name_key(loc: schema.Loc, data: Mapping[str, Any]) -> str:
    """A key path as people write it: `github.repositories[acme/web].workflows` (items by their name)."""
    parts: list[str] = []
    node: Any = data
    for part in loc:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            name = item.get("name") if isinstance(item, dict) else item
            parts[-1] += f"[{name}]" if isinstance(name, str) else f"[{part}]"
            node = item
        else:
            parts.append(part)
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


_HEADER = re.compile(r"^\s*(\[\[?)([^\[\]]+)\]\]?\s*(#.*)?$")
_KEY = re.compile(r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*=""")
_KEY_PART = re.compile(r"""[A-Za-z0-9_-]+|"[^"]*"|'[^']*'""")


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _KEY_PART.findall(key))


def key_lines(text: str) -> dict[schema.Loc, int]:
    """The line each table and key of a TOML text starts on, by its path (array tables by index)."""
    found: dict[schema.Loc, int] = {}
    arrays: dict[schema.Loc, int] = {}  # each array of tables (by its resolved path): its last index
    table: schema.Loc = ()
    depth, quote = 0, None  # inside a multi-line array or inline table; inside a multi-line string

    def resolve(parts: tuple[str, ...]) -> schema.Loc:
        path: schema.Loc = ()
        for part in parts:
            path += (part,)
            if path in arrays:
                path += (arrays[path],)
        return path

    for number, line in enumerate(text.splitlines(), 1):
        if depth == 0 and quote is None:
            header = _HEADER.match(line)
            if header:
                parts = _split_key(header.group(2))
                if header.group(1) == "[[":
                    parent = resolve(parts[:-1]) + parts[-1:]
                    arrays[parent] = arrays.get(parent, -1) + 1
                    table = parent + (arrays[parent],)
                else:
                    table = resolve(parts)
                found.setdefault(table, number)
                continue
            key = _KEY.match(line)
            if key:
                loc = table + _split_key(key.group(1))
                for end in range(len(table) + 1, len(loc) + 1):
                    found.setdefault(loc[:end], number)
        depth, quote = _scan_value(line, depth, quote)
    return found


def _scan_value(line: str, depth: int, quote: str | None) -> tuple[int, str | None]:
    """Bracket depth and open multi-line string after `line`, skipping strings and comments."""
    i = 0
    while i < len(line):
        if quote:
            end = line.find(quote, i)
            if end < 0:
                return depth, quote
            i, quote = end + 3, None
            continue
        c = line[i]
        if c == "#":
            break
        if line.startswith(('"""', "'''"), i):
            quote, i = line[i:i + 3], i + 3
            continue
        if c in "\"'":
            i += 1
            while i < len(line) and line[i] != c:
                i += 2 if c == '"' and line[i] == "\\" else 1
        elif c in "[{":
            depth += 1
        elif c in "]}":
            depth -= 1
        i += 1
    return depth, quote


def find_line(lines: Mapping[schema.Loc, int], loc: schema.Loc) -> int | None:
    """The line of `loc`, else of the nearest table or key that holds it (None: not in the file)."""
    for end in range(len(loc), 0, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return None
