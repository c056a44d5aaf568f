"""One process per run directory (a search, a benchmark build, a rank-correlation study): an exclusive
lock held for the life of that process.

`flock` is released by the kernel when the process dies, however it dies, so a lock left by a killed
run never blocks a resume; the pid written in the file names the owner in the error message.
"""
from __future__ import annotations

import fcntl
import os
import warnings
from pathlib import Path

from ..errors import RunDirError
from . import rundir


class RunLock:
    def __init__(self, run_dir: str | os.PathLike, command: str = "era search"):
        self.path = Path(run_dir) / rundir.LOCK
        self.command = command      # who holds such a lock, for the message
        self._file = None

    def __enter__(self):
        self._file = open(self.path, "a+")
        try:
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.seek(0)
            owner = self._file.read().strip() or "unknown"
            self._file.close()
            raise RunDirError(f"{self.path.parent} is in use by process {owner} (another `{self.command}`); "
                              f"wait for it to finish or stop it first") from None
        self._file.seek(0)
        previous = self._file.read().strip()
        if previous and previous != str(os.getpid()) and not _alive(previous):
            warnings.warn(f"{self.path}: taking over the lock left by process {previous}, which is no longer "
                          f"running", stacklevel=2)
        self._file.seek(0)
        self._file.truncate()
        self._file.write(str(os.getpid()))
        self._file.flush()
        return self

    def __exit__(self, *exc):
        self._file.seek(0)
        self._file.truncate()
        fcntl.flock(self._file, fcntl.LOCK_UN)
        self._file.close()


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
