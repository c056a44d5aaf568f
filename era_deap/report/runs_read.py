"""Find and read run directories (era_deap.search.rundir's contract) into plain records for the report.

    collection = load(["runs/quick"])      # every run dir and final-training dir beneath
    for search in collection.searches:     # grouped by name and config (searches.py), thesis order
        for run in search.runs:            # one per seed
            run.evaluations                # curves.py derives the figures' series from these

`evaluations.csv` is the source of truth; the logbook is only cross-checked (curves.logbook_mismatches).
No pandas: lists of dataclasses.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import RunDirError
from ..search import rundir
from ..search.rundir import RunDirectory
from .searches import Collection, FinalResult, group, search_config

# Standalone final-training dirs: final.json `name` (lower case, letters and digits only) -> label.
BASELINE_NAMES = {"resnet110": "ResNet-110 (baseline)", "resnet110wide": "ResNet-110 wide"}

MAX_DEPTH = 3                # RUN_DIR may be a run, a search (seed-k/ below), a profile or runs/ itself


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
    directory = RunDirectory(path)
    config, summary = directory.saved_config(), directory.summary()
    evaluations, notes = directory.read_evaluations()
    name = config.get("name") or summary.get("name") or path.name
    strategy = config.get("strategy") if isinstance(config.get("strategy"), dict) else {}
    kind = strategy.get("kind") or summary.get("kind") or name
    seed = config.get("seed", summary.get("seed"))
    finished = bool(summary.get("finished", False))
    if not summary:
        notes.append(f"no {rundir.SUMMARY}: treated as unfinished")
    evaluator = config.get("evaluator") if isinstance(config.get("evaluator"), dict) else {}
    on_table = evaluator.get("objective") == "table" and evaluator.get("table")
    return Run(path, str(name), str(kind), seed if isinstance(seed, int) else None, finished,
               evaluations, directory.logbook(), directory.final(), notes,
               str(summary.get("stop_reason") or ""), clock=str(summary.get("clock") or "wall"),
               search_config=search_config(config) if config else None,
               table=str(evaluator["table"]) if on_table else None)


def _read_baseline(path: Path) -> FinalResult:
    data = rundir.read_final(path) or {}
    name = str(data.get("name") or path.name.removeprefix("final-"))
    normal = "".join(ch for ch in name.lower() if ch.isalnum())
    return FinalResult(path, BASELINE_NAMES.get(normal, name), data)


def _baseline_rank(label: str) -> int:
    labels = list(BASELINE_NAMES.values())
    return labels.index(label) if label in labels else len(labels)
