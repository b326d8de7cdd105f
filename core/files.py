"""Writing a file so that it is either whole or untouched: a temporary file renamed into place."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import IO, Callable

from core.errors import DoraError


def write_atomically(path: str | Path, write: Callable[[IO[str]], None]) -> None:
    """Call `write` with a text file beside `path`, then rename it over `path`.

    A failure (or Ctrl-C) part-way leaves whatever `path` held before, and no temporary file.
    """
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError as exc:
        raise DoraError(f"cannot write {path}: the folder {path.parent} does not exist") from exc
    except OSError as exc:
        raise DoraError(f"cannot write {path}: {exc.strerror or exc}") from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would hide the file from its usual readers
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            write(out)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
