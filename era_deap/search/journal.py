"""The run's journal: an append-only JSON-lines file, fsynced after every record (docs/design.md §6, §7).

Records, in the order they happened:
    {"type": "session", "started": unix time, "elapsed": seconds so far}
    {"type": "ask", "n": i, "genome": [...]}                      the strategy's i-th ask
    {"type": "result", "n": i, "index": j, "elapsed": s, "key": ..., "seed": ..., "result": {...}}
    {"type": "resubmitted", "n": i, "reason": ...}                a lost worker's evaluation sent again
    {"type": "interrupted", "n": i}                               SIGTERM/Ctrl-C while it trained
Resume rebuilds everything (strategy, cache, CSV, logbook) from these records.
"""
from __future__ import annotations

import contextlib
import json
import os
import warnings
from pathlib import Path

from ..errors import JournalError  # noqa: F401  (re-exported)
from .safe_write import writing

# What each record type of a search's journal must hold (name -> accepted types); anything else is a
# damaged record. (`era bench build` keeps a journal of its own records.)
FIELDS = {"session": {}, "ask": {"n": int, "genome": list}, "interrupted": {"n": int},
          "result": {"n": int, "elapsed": (int, float), "result": dict}, "resubmitted": {"n": int}}


def record_problem(record: object, fields: dict | None = FIELDS) -> str | None:
    """Why `record` is not a journal record (one of `fields`' types, if given), or None."""
    if not isinstance(record, dict) or "type" not in record:
        return "not a journal record"
    if fields is None:
        return None
    if record["type"] not in fields:
        return f"not a journal record (type one of {', '.join(fields)})"
    for name, kind in fields[record["type"]].items():
        value = record.get(name)
        if isinstance(value, bool) or not isinstance(value, kind):
            return f"{record['type']} record without a valid `{name}` (got {value!r})"
    if record["type"] == "result" and not isinstance(record["result"].get("status"), str):
        return "result record whose `result` has no `status`"
    return None


class Journal:
    def __init__(self, path: str | os.PathLike, fields: dict | None = FIELDS):
        self.path, self.fields = Path(path), fields
        self._file = None
        self.lines: list[int] = []    # the line number of each record `read` returned

    def read(self) -> list[dict]:
        """All complete records. A torn last line (a crash mid-write) is dropped with a warning and cut
        from the file; a damaged record anywhere else is an error naming file and line."""
        if not self.path.exists():
            return []
        raw = self.path.read_bytes()
        lines = raw.split(b"\n")
        records, offset, self.lines = [], 0, []
        torn_possible = bool(raw) and not raw.endswith(b"\n")
        last = max((i for i, line in enumerate(lines, start=1) if line.strip()), default=0)
        for number, line in enumerate(lines, start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                    problem = record_problem(record, self.fields)
                    if problem:
                        raise ValueError(problem)
                except (ValueError, UnicodeDecodeError) as exc:
                    if torn_possible and number == len(lines):
                        warnings.warn(f"{self.path}: line {number} was half written (a crash mid-write); "
                                      f"dropping it, the evaluation it belonged to is redone", stacklevel=2)
                        self._truncate(offset)
                        break
                    raise JournalError(damaged(self.path, number, exc, number == last)) from None
                records.append(record)
                self.lines.append(number)
            offset += len(line) + 1
        else:
            if torn_possible:  # the record is whole but its newline was not written: complete it
                with open(self.path, "ab") as f:
                    f.write(b"\n")
        return records

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as f:
            f.truncate(size)
            f.flush()
            os.fsync(f.fileno())

    def append(self, record: dict) -> None:
        data = (json.dumps(_finite(record), separators=(",", ":"), allow_nan=False) + "\n").encode()
        with writing(self.path):
            if self._file is None:
                self._file = open(self.path, "ab")
            self._file.write(data)
            self._file.flush()
            os.fsync(self._file.fileno())

    def close(self) -> None:
        if self._file is not None:
            with contextlib.suppress(OSError):  # a full disk may refuse the final flush too
                self._file.close()
            self._file = None


def damaged(path: str | os.PathLike, line: int, why: str | Exception, last: bool) -> str:
    """The one-line refusal of a damaged record: a last line can simply go (what it recorded is redone)."""
    fix = ("delete that last line (what it recorded is redone on resume) or move the run directory aside"
           if last else "move the run directory aside or restore the journal from a backup")
    return f"{path}: line {line}: damaged journal record ({why}); the run cannot be resumed safely: {fix}"


def _finite(value):
    """JSON has no NaN: non-finite floats (a diverged learning curve) are stored as null."""
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
