"""Writing run files so that a full disk or a read-only directory is a clear error, never a torn file."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


class WriteFailed(RuntimeError):
    """A run file could not be written (disk full, read-only, permissions); names the file and why."""

    def __init__(self, path: str | os.PathLike, error: OSError):
        super().__init__(f"cannot write {path}: {error.strerror or error}")
        self.path, self.error = Path(path), error


@contextlib.contextmanager
def writing(path: str | os.PathLike) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise WriteFailed(path, exc) from exc


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Replace `path` with `data` in one step (a temporary file, fsync, rename)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    with writing(path):
        try:
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
