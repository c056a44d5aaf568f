"""Find and read run directories (era_deap.search.rundir's contract) into plain records for the report.

    collection = load(["runs/quick"])      # every run dir and final-training dir beneath
    for search in collection.searches:     # grouped by name and config (searches.py), thesis order
        for run in search.runs:            # one per seed
            run.evaluations                # curves.py derives the figures' series from these

`evaluations.csv` is the source of truth; the logbook is only cross-checked (curves.logbook_mismatches).
No pandas: lists of dataclasses.
"""
from __future__ import annotations

import csv
import json
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import RunDirError
from ..search import rundir
from ..settings import objective_kind
from ..space.genome import GENES, to_arch
from ..training.result import INTERRUPTED, OK
from .searches import Collection, FinalResult, group, search_config

# Standalone final-training dirs: final.json `name` (lower case, letters and digits only) -> label.
BASELINE_NAMES = {"resnet110": "ResNet-110 (baseline)", "resnet110wide": "ResNet-110 wide"}

MAX_DEPTH = 3                # RUN_DIR may be a run, a search (seed-k/ below), a profile or runs/ itself
INT_GENES = GENES[1:]


@dataclass(frozen=True)
class Evaluation:
    """One row of evaluations.csv, typed."""
    index: int
    key: str
    genes: tuple          # GENES order; ints where the text is an integer
    error: float | None   # validation error (%); None unless status is ok
    status: str
    cached: bool
    params: int | None
    depth: int | None
    seconds: float | None
    elapsed: float
    worker: str
    seed: int | None
    message: str
    epochs: int | None = None   # a multi-fidelity evaluation of the schedule's first epochs; None: all

    @property
    def ok(self) -> bool:
        return self.status == OK

    @property
    def arch(self) -> dict:
        return to_arch(self.genes)


@dataclass
class Run:
    path: Path
    name: str               # config `name`
    kind: str               # config strategy.kind
    seed: int | None
    finished: bool
    evaluations: list       # [Evaluation], interrupted rows left out
    logbook: list | None    # logbook.json records, when present
    final: dict | None      # <run>/final/final.json, when present
    notes: list = field(default_factory=list)  # things the reader should know (shown in report.md)
    stop_reason: str = ""   # summary.json's, when the driver gave one (e.g. "failures")
    clock: str = "wall"     # summary.json's: "simulated" on a benchmark table (summed training seconds)
    search_config: dict | None = None   # what config.yaml says is searched (searches.search_config)
    table: str | None = None            # evaluator.table of a run on a benchmark table
    # counted once from `evaluations` (a run is not changed after reading)
    failed: dict = field(init=False)    # status -> evaluations that failed with it
    cached: int = field(init=False)     # evaluations answered from the run's cache

    def __post_init__(self):
        self.failed = dict(Counter(e.status for e in self.evaluations if not e.ok))
        self.cached = sum(e.cached for e in self.evaluations)


# --- discovery ------------------------------------------------------------------------------------

def discover(path: Path) -> tuple[list, list]:
    """(run dirs, standalone final-training dirs) at or below `path`, up to MAX_DEPTH levels, sorted.
    A run dir holds evaluations.csv; we do not look inside it except for its final/ subdirectory."""
    runs, finals = [], []
    for top, dirs, files in os.walk(path):
        here = Path(top)
        level = len(here.relative_to(path).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if rundir.EVALUATIONS in files:
            runs.append(here)
            dirs[:] = []
        elif rundir.FINAL in files:   # a run's own final/ is never reached here: read with the run
            finals.append(here)
        if level >= MAX_DEPTH:
            dirs[:] = []
    return runs, finals


def load(paths) -> Collection:
    """Every run and final-training dir under `paths`, read and grouped. RunDirError (one line) for a
    path that does not exist or holds neither evaluations.csv nor final.json."""
    run_dirs, final_dirs = {}, {}
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            raise RunDirError(f"RUN_DIR {given}: no such directory")
        runs, finals = discover(path)
        if not runs and not finals:
            raise RunDirError(f"RUN_DIR {given}: no {rundir.EVALUATIONS} (search run) or {rundir.FINAL} "
                              f"(final training) in it or up to {MAX_DEPTH} levels below")
        for d in runs:
            run_dirs.setdefault(d.resolve(), d)
        for d in finals:
            final_dirs.setdefault(d.resolve(), d)
    runs = [read_run(d) for d in run_dirs.values()]
    baselines = [_read_baseline(d) for d in final_dirs.values()]
    baselines.sort(key=lambda f: (_baseline_rank(f.label), f.label, str(f.path)))
    return Collection(group(runs), baselines)


# --- reading one run ------------------------------------------------------------------------------

def read_run(path: Path) -> Run:
    config = _read_yaml(path / rundir.CONFIG)
    summary = _read_json(path / rundir.SUMMARY)
    evaluations, notes = read_evaluations(path / rundir.EVALUATIONS)
    name = config.get("name") or summary.get("name") or path.name
    strategy = config.get("strategy") if isinstance(config.get("strategy"), dict) else {}
    kind = strategy.get("kind") or summary.get("kind") or name
    seed = config.get("seed", summary.get("seed"))
    finished = bool(summary.get("finished", False))
    if not summary:
        notes.append(f"no {rundir.SUMMARY}: treated as unfinished")
    logbook = _read_json(path / rundir.LOGBOOK_JSON, default=None)
    final = _read_json(path / rundir.FINAL_DIR / rundir.FINAL, default=None)
    evaluator = config.get("evaluator") if isinstance(config.get("evaluator"), dict) else {}
    on_table = objective_kind(str(evaluator.get("objective"))).reads_table and evaluator.get("table")
    return Run(path, str(name), str(kind), seed if isinstance(seed, int) else None, finished,
               evaluations, logbook if isinstance(logbook, list) else None, final, notes,
               str(summary.get("stop_reason") or ""), clock=str(summary.get("clock") or "wall"),
               search_config=search_config(config) if config else None,
               table=str(evaluator["table"]) if on_table else None)


def read_evaluations(path: Path) -> tuple[list, list]:
    """Typed rows of evaluations.csv and notes. A last row cut short (the run was killed while writing)
    is dropped with a note; any other malformed row is a RunDirError naming file and line."""
    notes, rows = [], []
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in rundir.EVALUATION_COLUMNS
                   if c not in (reader.fieldnames or ()) and c not in rundir.OPTIONAL_COLUMNS]
        if missing:
            raise RunDirError(f"{path}: missing column(s) {', '.join(missing)}; expected the header "
                              f"{','.join(rundir.EVALUATION_COLUMNS)}")
        raw = list(reader)
    interrupted = 0
    for number, row in enumerate(raw, start=2):
        if any(row.get(c) is None for c in rundir.EVALUATION_COLUMNS if c not in rundir.OPTIONAL_COLUMNS):
            if number == len(raw) + 1:
                notes.append(f"last row of {rundir.EVALUATIONS} incomplete (run stopped while writing): ignored")
                continue
            raise RunDirError(f"{path}:{number}: row has fewer fields than the header")
        try:
            evaluation = _evaluation(row)
        except ValueError as exc:
            raise RunDirError(f"{path}:{number}: {exc}") from None
        if evaluation.status == INTERRUPTED:   # never written by the driver; tolerated (retrained on resume)
            interrupted += 1
            continue
        rows.append(evaluation)
    if interrupted:
        notes.append(f"{interrupted} interrupted evaluation(s) ignored (retrained on resume)")
    return rows, notes


def _evaluation(row: dict) -> Evaluation:
    status = row["status"].strip()
    error = _float(row["error"], "error")
    if status == OK and (error is None or not math.isfinite(error)):
        raise ValueError(f"status ok needs a finite error, got {row['error']!r}")
    genes = tuple([row["block"]] + [_int_or_text(row[g]) for g in INT_GENES])
    return Evaluation(
        index=int(row["index"]), key=row["key"], genes=genes, error=error if status == OK else None,
        status=status, cached=row["cached"].strip() in ("1", "true", "True"),
        params=_int(row["params"], "params"), depth=_int(row["depth"], "depth"),
        seconds=_float(row["seconds"], "seconds"), elapsed=_float(row["elapsed"], "elapsed") or 0.0,
        worker=row["worker"], seed=_int(row["seed"], "seed"), message=row["message"],
        epochs=_int(row.get("epochs") or "", "epochs"))


def _float(text: str, column: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"column {column}: expected a number, got {text!r}") from None


def _int(text: str, column: str) -> int | None:
    value = _float(text, column)
    return None if value is None else int(value)


def _int_or_text(text: str):
    try:
        return int(text)
    except ValueError:
        return text   # an invalid genome may hold anything; it is shown, never computed with


def _read_yaml(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RunDirError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return data if isinstance(data, dict) else {}


def _read_json(path: Path, default=dict):
    if not path.exists():
        return default() if callable(default) else default
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc})") from None


def _read_baseline(path: Path) -> FinalResult:
    data = _read_json(path / rundir.FINAL)
    name = str(data.get("name") or path.name.removeprefix("final-"))
    normal = "".join(ch for ch in name.lower() if ch.isalnum())
    return FinalResult(path, BASELINE_NAMES.get(normal, name), data)


def _baseline_rank(label: str) -> int:
    labels = list(BASELINE_NAMES.values())
    return labels.index(label) if label in labels else len(labels)
