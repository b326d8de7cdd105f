"""What a long `dora` run is doing, on stderr while a person watches: one line per phase.

The phases of a load: reading the input (bytes read of the files' total; bytes read alone when the
size is not known ahead: a `.gz` file, stdin, a pipe), then building the metrics (models done of
total, with the current one), then publishing the read snapshot. Each phase says what it is, so the
bar never stands still near the end without saying why. Drawn by rich; nothing at all under `-q` or
when stderr is not a terminal (cron, pipes, tests), so scripts see only the summary lines.
"""
from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

BUILDING = "building the metrics"
PUBLISHING = "publishing the read snapshot"
# After the input, until the build reports its models (on_model): what is left, in one line.
AFTER_LOAD = f"{BUILDING}, then {PUBLISHING}"


def show_progress(quiet: bool) -> bool:
    """True when a person watches stderr and did not ask for quiet."""
    return not quiet and sys.stderr.isatty()


def format_bytes(n: float) -> str:
    """A byte count as people read it: 612.4 MB, 2.45 GB (powers of 1000, as file managers show)."""
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{int(n)} B"


class RunProgress:
    """The phases of one run as rich progress lines: `on_bytes` while reading, then `on_model` per
    model built, then `on_publish`. Use as a context manager; `enabled=False` draws nothing."""

    def __init__(self, total_bytes: int | None, *, enabled: bool, console: Console | None = None) -> None:
        self.total_bytes = total_bytes or None  # 0 (only streams and .gz files): no total to show
        self.read = 0
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓"),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[detail]}"),
            TimeElapsedColumn(),
            console=console or Console(stderr=True),
            disable=not enabled,
        )
        self.current: TaskID | None = None

    def __enter__(self) -> "RunProgress":
        self.progress.start()
        self.start_phase("reading", self.total_bytes, self.describe_read())
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc_type is None:
            self.finish_phase()
        self.progress.stop()

    def start_phase(self, name: str, total: float | None, detail: str = "") -> None:
        """End the current phase (ticked) and start `name`; `total` None draws a moving bar."""
        self.finish_phase()
        self.current = self.progress.add_task(name, total=total, detail=detail)

    def finish_phase(self) -> None:
        """Mark the current phase done: full bar, ticked."""
        if self.current is not None:
            task = self.progress.tasks[self.current]
            self.progress.update(self.current, total=task.total or task.completed or 1,
                                 completed=task.total or task.completed or 1)
            self.current = None

    def describe_read(self) -> str:
        if self.total_bytes:
            return f"{format_bytes(self.read)} of {format_bytes(self.total_bytes)}"
        return f"{format_bytes(self.read)} read"

    def on_bytes(self, nbytes: int) -> None:
        """`nbytes` more of the input were read and stored."""
        self.read += nbytes
        if self.current is not None:
            self.progress.update(self.current, advance=nbytes, detail=self.describe_read())

    def on_load_done(self) -> None:
        """The input is stored; what follows is the metric build, then publishing."""
        self.start_phase(AFTER_LOAD, None)

    def on_model(self, done: int, total: int, name: str) -> None:
        """Model `name` is being built: `done` of `total` are finished."""
        if self.current is None or self.progress.tasks[self.current].description != BUILDING:
            self.start_phase(BUILDING, total)
        # drawn at once: a model can take seconds, and its name is the news (the timer redraws at 10 Hz)
        self.progress.update(self.current, total=total, completed=done, detail=f"{done}/{total} {name}",
                             refresh=True)

    def on_publish(self) -> None:
        """The build is committed; the read snapshot is being published."""
        self.start_phase(PUBLISHING, None)
