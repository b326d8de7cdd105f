"""Read the project's SQL models: one model per `.sql` file, kept beside the package that runs it."""
from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def read_sql(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>.sql`."""
    return resources.files(package).joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")
