"""Small CSV inputs (annotations, survey responses): cut into rows with their line numbers.

Python only tokenises the file (the standard csv module, which knows quoting and multi-line fields)
and hands DuckDB one Arrow table of strings; each source's SQL validates the rows in bulk and says
why a row is rejected. A file that cannot be read at all (missing, not UTF-8, no header, a required
column missing) raises InputError before anything is written.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pyarrow as pa

from core.errors import InputError


@dataclass
class CsvRows:
    """A CSV file's data rows: `table` has file, line_no, raw, field_count and one string column per
    known column (None where the row has no such field); `header` is the header as written."""

    table: pa.Table
    header: list[str]


def read_csv_rows(
    path: str | Path, required: Sequence[str], optional: Sequence[str] = (),
    aliases: Mapping[str, str] | None = None, example: str = "",
) -> CsvRows:
    """Read `path` (UTF-8, a BOM is fine) into rows of strings keyed by the known column names.

    Header names are matched case-insensitively after trimming; `aliases` maps another accepted
    name to a known one (e.g. `service` → `team`). Unknown columns are ignored.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError as exc:
        raise InputError(f"cannot read {path}: no such file") from exc
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{path} is not UTF-8 text (byte {exc.start}); save it as UTF-8 CSV") from exc
    lines = text.splitlines(keepends=True)
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path} is empty: expected a header row {example}".rstrip()) from None
    except csv.Error as exc:
        raise InputError(f"{path}: cannot read the header row: {exc}") from exc
    aliases = dict(aliases or {})
    positions: dict[str, int] = {}
    for i, name in enumerate(header):
        key = name.strip().lower()
        key = aliases.get(key, key)
        if key in (*required, *optional) and key not in positions:
            positions[key] = i
    missing = [c for c in required if c not in positions]
    if missing:
        found = ", ".join(h.strip() for h in header) or "nothing"
        raise InputError(
            f"{path}: missing column{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
            f"(the header has: {found}) {example}".rstrip()
        )
    columns: dict[str, list[str | None]] = {c: [] for c in positions}
    line_nos: list[int] = []
    raws: list[str] = []
    counts: list[int] = []
    errors: list[str | None] = []
    previous_end = reader.line_num
    while True:
        try:
            row = next(reader)
            error = None
        except StopIteration:
            break
        except csv.Error as exc:  # e.g. a quote never closed: the rest of the file is that field
            row, error = [], f"not valid CSV: {exc}"
        first, previous_end = previous_end + 1, reader.line_num
        if not row and error is None:
            continue  # a blank line
        line_nos.append(first)
        raws.append("".join(lines[first - 1:previous_end]).rstrip("\r\n"))
        counts.append(len(row))
        errors.append(error)
        for name, i in positions.items():
            columns[name].append(row[i] if i < len(row) else None)
    n = len(line_nos)
    table = pa.table({
        "file": pa.array([str(path)] * n, pa.string()),
        "line_no": pa.array(line_nos, pa.int64()),
        "raw": pa.array(raws, pa.string()),
        "field_count": pa.array(counts, pa.int64()),
        "header_count": pa.array([len(header)] * n, pa.int64()),
        "parse_error": pa.array(errors, pa.string()),
        **{name: pa.array(values, pa.string()) for name, values in columns.items()},
        **{name: pa.array([None] * n, pa.string()) for name in optional if name not in positions},
    })
    return CsvRows(table, header)
