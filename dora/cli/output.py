"""How commands write: fixed-width tables, cells, the end-of-run summary of a load, and files.

Text from the data reaches the terminal with its control characters escaped (an event log may hold
a clear-screen or window-title escape); files are written whole or not at all.
"""
from __future__ import annotations

import math
import sys
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Callable, Iterable

import click
import pandas as pd

from core.errors import DoraError
from core.files import write_atomically
from core.text import escape_controls
from ingest.warehouse import snapshot_files, snapshot_path
from metrics.registry import Metric

# A metric's unit as a table header writes it after the metric's name ("lead time h").
_UNIT_SUFFIXES = {"deploys/day": "per day", "hours": "h", "minutes": "min", "share": "", "score": ""}


def is_missing(value: Any) -> bool:
    """True for every way pandas and DuckDB say "no value": None, NaN, NA and NaT."""
    return (value is None or value is pd.NA or value is pd.NaT
            or (isinstance(value, float) and math.isnan(value)))


def format_rows(headers: list[str], rows: list[list[str]], right: set[int] = frozenset()) -> str:
    """A fixed-width table under a dashed rule; columns in `right` are right-aligned (numbers).
    Cells are shown with control characters escaped."""
    rows = [[escape_controls(cell) for cell in row] for row in rows]
    table = [headers] + rows
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]

    def line(r: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))).rstrip()

    return "\n".join([line(headers), "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def format_cell(value, unit: str | None = None) -> str:
    """One cell for the terminal: '–' for undefined, short times, numbers to 4 significant digits."""
    if is_missing(value):
        return "–"
    if isinstance(value, (pd.Timestamp, datetime)):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}" if unit in (None, "record", "flag") else f"{value:.2f}"
    return str(value)


def metric_header(metric: Metric) -> str:
    """A metric's column header in a terminal table: its short name and unit, e.g. "lead time h"."""
    return f"{metric.terminal_header} {_UNIT_SUFFIXES[metric.unit]}".rstrip()


def echo_reject_samples(counts, run_id: int) -> None:
    """The first ten rejected records of a run on stderr, and where to find the rest."""
    for file, line_no, reason in counts.reject_samples[:10]:
        click.echo(escape_controls(f"  rejected {file}:{line_no}: {reason}"), err=True)
    if counts.rejected > 10:
        click.echo(f"  … and {counts.rejected - 10} more: `dora rejects --run {run_id}`", err=True)


def report_counts(run, what: str, quiet: bool) -> None:
    """The end-of-run summary of a CSV load on stderr, and the first rejected rows."""
    c = run.counts
    if not quiet or c.rejected:
        click.echo(f"run {run.run_id}: {c.records} {what} read, {c.loaded} new or changed, "
                   f"{c.duplicates} unchanged, {c.rejected} rejected", err=True)
    echo_reject_samples(c, run.run_id)


def write_output(output: str | None, write: Callable[[IO[str]], None], *, db_path: Path,
                 inputs: Iterable[str] = ()) -> None:
    """Write a command's output to stdout (no `-o`, or `-o -`) or to the file `output`, whole or not at all.

    The warehouse, its snapshot and the command's input files are never written over.
    """
    if output is None or output == "-":
        write(sys.stdout)
        return
    target = Path(output).resolve()
    protected = {Path(p).resolve(): what for p, what in
                 [(db_path, "the warehouse"), (Path(str(db_path) + ".wal"), "the warehouse's log")]
                 + [(p, "the warehouse's read snapshot") for p in (snapshot_path(db_path), *snapshot_files(db_path))]
                 + [(p, "an input file") for p in inputs]}
    if target in protected:
        raise DoraError(f"refusing to write over {output}: it is {protected[target]}; choose another -o file")
    if target.is_dir():
        raise DoraError(f"cannot write {output}: it is a folder; name a file")
    write_atomically(target, write)
