"""The errors a user can act on. Each is one line naming the file, key or flag, what was expected and
what was given; the CLI prints it and exits with the class's `exit_code`. Code tells them apart by
class; nothing computed before the error is lost."""
from __future__ import annotations


class UserError(Exception):
    """Base of every user-facing failure (never a bug of era-deap's: those stay tracebacks)."""
    exit_code = 2


class ConfigError(UserError, ValueError):
    """A config file, a command-line flag or a value in them: file:line, dotted key, expected, given."""


class RunDirError(UserError):
    """A run directory that cannot be used as asked: in use by another process, holding another run,
    unreadable, or a resume that would not replay."""


class JournalError(RunDirError):
    """The journal cannot be read back; the message names the file and the record."""


class ReplayMismatch(RunDirError):
    """Resuming asked a different genome than the journal holds."""


class ClusterError(UserError):
    """The Dask cluster cannot run the search: unreachable scheduler, workers without the asked GPU."""


class SearchAborted(UserError, RuntimeError):
    """The search stopped itself (most evaluations failed, a user operator failed); the message points to
    the run directory, and `--resume` continues from its journal."""
    exit_code = 1
