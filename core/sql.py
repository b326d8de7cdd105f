"""Read the project's SQL models and bind their parameters.

One statement per `.sql` file, kept in the `sql/` folder beside the package that runs it. Values are
always bound (`$name`), never formatted into the text.
"""
from __future__ import annotations

import re
from functools import cache
from importlib import resources
from typing import Any, Mapping

import duckdb

_PARAM = re.compile(r"\$([a-z_][a-z0-9_]*)")


@cache
def read_sql(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>.sql`."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def bind_params(sql: str, params: Mapping[str, Any]) -> dict[str, Any] | None:
    """The named parameters `sql` uses, taken from `params` (DuckDB refuses unused ones)."""
    used = {p: params[p] for p in _PARAM.findall(sql) if p in params}
    return used or None


def run_sql(con: duckdb.DuckDBPyConnection, package: str, name: str,
            params: Mapping[str, Any] | None = None) -> duckdb.DuckDBPyConnection:
    """Execute `<package>/sql/<name>.sql` with the parameters it uses; the result is on `con`."""
    sql = read_sql(package, name)
    return con.execute(sql, bind_params(sql, params or {}))
