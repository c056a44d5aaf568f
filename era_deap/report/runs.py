"""Reading runs: every run directory and final-training directory below the paths given, read through
search/rundir.py's RunDirectory into plain records, and grouped into searches.

    collection = load(["runs/quick"])      # every run dir and final-training dir beneath
    for search in collection.searches:     # SearchRuns: one search's runs, thesis order
        for run in search.runs:            # one per seed
            run.evaluations                # statistics.py derives every number from these

`evaluations.csv` is the source of truth; the logbook is only cross-checked (statistics.logbook_mismatches).
No pandas: lists of dataclasses.

The seeds of one search share a config `name` and what their saved config.yaml says is searched. Runs
that share a name but not a config (an operator edited, the name kept) are separate searches, labelled
with a short hash of their config ("land_stock [a1b2c3]"); report.md names the keys that differ
(page.py). What counts as the config: search/runconfig.py's `search_keys` (config.yaml flattened to
dotted keys, without the budget (a resumed run may have a larger one: compared at an equal count
instead), the command, and the keys that only say where and how fast a search ran: a run resumed with
more workers is the same search), and without the seed (it tells seeds apart); named by the same
`config_hash` as summary.json's. A run without config.yaml groups by name alone.
"""
from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RunDirError
from ..search import rundir
from ..search.runconfig import config_hash, search_keys
from ..search.rundir import RunDirectory
from ..settings import objective_kind

if TYPE_CHECKING:
    from collections.abc import Iterable

# Thesis names and order (tables 1 and 2); any other config name follows these, verbatim.
SEARCH_NAMES = {
    "random_search": "Random Search",
    "local_search": "Local Search",
    "bayesian_optimization": "Bayesian Optimization",
    "evolution": "Evolution",
    "regularized_evolution": "Regularized Evolution",
    "crossover_evolution": "Crossover Evolution",
    "nsga2": "NSGA-II",
    "asha": "ASHA",
    "hyperband": "Hyperband",
    "asha_evolution": "ASHA + evolution",
}
EVOLUTIONARY_KINDS = ("evolution", "regularized_evolution", "crossover_evolution")  # thesis table 10

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
    evaluations: list       # [rundir.Evaluation], interrupted rows left out
    logbook: list | None    # logbook.json records, when present
    final: dict | None      # <run>/final/final.json, when present
    notes: list = field(default_factory=list)  # things the reader should know (shown in report.md)
    stop_reason: str = ""   # summary.json's, when the driver gave one (e.g. "failures")
    clock: str = "wall"     # summary.json's: "simulated" on a benchmark table (summed training seconds)
    search_config: dict | None = None   # what config.yaml says is searched (search_config below)
    table: str | None = None            # evaluator.table of a run on a benchmark table
    # counted once from `evaluations` (a run is not changed after reading)
    failed: dict = field(init=False)    # status -> evaluations that failed with it
    cached: int = field(init=False)     # evaluations answered from the run's cache

    def __post_init__(self):
        self.failed = dict(Counter(e.status for e in self.evaluations if not e.ok))
        self.cached = sum(e.cached for e in self.evaluations)


@dataclass
class SearchRuns:
    """One search as the report sees it: the runs (one per seed) of one config."""
    name: str               # config `name`
    kind: str               # config strategy.kind
    runs: list              # [Run], by seed
    config_id: str = ""     # short config hash, set only when another search shares the name
    key: str = ""           # unique in a report: the name, with the config id when it is set (colours)
    label: str = ""         # thesis name (or the config name), with the config id when it is set

    def __post_init__(self):
        suffix = f" [{self.config_id}]" if self.config_id else ""
        self.key = self.key or self.name + suffix
        self.label = self.label or SEARCH_NAMES.get(self.name, self.name) + suffix

    @property
    def evolutionary(self) -> bool:
        return self.kind in EVOLUTIONARY_KINDS or "evolution" in self.kind

    @property
    def finished(self) -> bool:
        return all(r.finished for r in self.runs)


@dataclass
class FinalResult:
    path: Path
    label: str
    data: dict              # final.json as written
    search: str | None = None   # key of the search it came from; None for a baseline
    seed: int | None = None


@dataclass
class Collection:
    searches: list          # [SearchRuns], thesis order
    baselines: list         # [FinalResult] from standalone final-training dirs
    skipped: list = field(default_factory=list)   # "DIR: why" for run dirs that could not be read

    @property
    def runs(self) -> list:
        return [r for s in self.searches for r in s.runs]

    @property
    def finals(self) -> list:
        """Table 1 rows: baselines first (as in the thesis), then each search's final training."""
        from_runs = [FinalResult(r.path / rundir.FINAL_DIR, s.label, r.final, s.key, r.seed)
                     for s in self.searches for r in s.runs if r.final is not None]
        return self.baselines + from_runs


# --- discovery ------------------------------------------------------------------------------------

def discover(path: Path) -> tuple[list, list, list]:
    """(run dirs, standalone final-training dirs, skipped) at or below `path`, up to MAX_DEPTH levels,
    sorted. A run dir holds evaluations.csv; we do not look inside it except for its final/
    subdirectory. A directory with a run's other files but no evaluations.csv is skipped, and said."""
    runs, finals, skipped = [], [], []
    for top, dirs, files in os.walk(path):
        here = Path(top)
        level = len(here.relative_to(path).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if rundir.EVALUATIONS in files:
            runs.append(here)
            dirs[:] = []
        elif rundir.FINAL in files:   # a run's own final/ is never reached here: read with the run
            finals.append(here)
        elif rundir.SUMMARY in files:
            skipped.append(f"{here}: skipped, no {rundir.EVALUATIONS} (deleted, or the run recorded nothing yet)")
            dirs[:] = []
        if level >= MAX_DEPTH:
            dirs[:] = []
    return runs, finals, skipped


def load(paths: Iterable[str | os.PathLike]) -> Collection:
    """Every run and final-training dir under `paths`, read and grouped. RunDirError (one line) for a
    path that does not exist or holds neither evaluations.csv nor final.json."""
    run_dirs, final_dirs, skipped = {}, {}, []
    for given in paths:
        path = Path(given)
        if not path.is_dir():
            raise RunDirError(f"RUN_DIR {given}: no such directory")
        runs, finals, skipped_here = discover(path)
        skipped += skipped_here
        if not runs and not finals:
            why = f"; {'; '.join(skipped_here)}" if skipped_here else ""
            raise RunDirError(f"RUN_DIR {given}: no {rundir.EVALUATIONS} (search run) or {rundir.FINAL} "
                              f"(final training) in it or up to {MAX_DEPTH} levels below{why}")
        for d in runs:
            run_dirs.setdefault(d.resolve(), d)
        for d in finals:
            final_dirs.setdefault(d.resolve(), d)
    runs = []
    for d in run_dirs.values():
        try:
            runs.append(read_run(d))
        except RunDirError as exc:    # one damaged run does not hide the others: it is named instead
            skipped.append(f"{d}: skipped, {exc}")
    if not runs and not final_dirs:
        raise RunDirError("; ".join(skipped))
    baselines = [_read_baseline(d) for d in final_dirs.values()]
    baselines.sort(key=lambda f: (_baseline_rank(f.label), f.label, str(f.path)))
    return Collection(group(runs), baselines, skipped)


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
    on_table = objective_kind(str(evaluator.get("objective"))).reads_table and evaluator.get("table")
    return Run(path, str(name), str(kind), seed if isinstance(seed, int) else None, finished,
               evaluations, directory.logbook(), directory.final(), notes,
               str(summary.get("stop_reason") or ""), clock=_clock(summary, evaluator),
               search_config=search_config(config) if config else None,
               table=str(evaluator["table"]) if on_table else None)


def _clock(summary: dict, evaluator: dict) -> str:
    """summary.json's clock; a run killed before it wrote one has its objective's (simulated on a table)."""
    if summary.get("clock"):
        return str(summary["clock"])
    return "simulated" if objective_kind(str(evaluator.get("objective"))).simulated_clock else "wall"


def _read_baseline(path: Path) -> FinalResult:
    data = rundir.read_final(path) or {}
    name = str(data.get("name") or path.name.removeprefix("final-"))
    normal = "".join(ch for ch in name.lower() if ch.isalnum())
    return FinalResult(path, BASELINE_NAMES.get(normal, name), data)


def _baseline_rank(label: str) -> int:
    labels = list(BASELINE_NAMES.values())
    return labels.index(label) if label in labels else len(labels)


# --- grouping -------------------------------------------------------------------------------------

def search_config(config: dict) -> dict:
    """The dotted keys of a saved config that define the search, its seed left out (see the module
    docstring)."""
    return {k: v for k, v in search_keys(config).items() if k != "seed"}


def config_id(config: dict | None) -> str:
    """Six hex digits naming a search config (search_config's keys); "" for a run without config.yaml."""
    return config_hash(config, digits=6) if config else ""


def group(runs: Iterable[Run]) -> list:
    """Runs grouped into SearchRuns by (name, config id): thesis order first, then other names by their
    strategy kind's thesis position and name; runs within a search by seed. A name with one config keeps
    its plain label; a name with several gets the config id in every label."""
    groups: dict = {}
    for run in runs:
        groups.setdefault((run.name, config_id(run.search_config)), []).append(run)
    names = [name for name, _ in groups]
    searches = [SearchRuns(name, rs[0].kind, sorted(rs, key=_seed_order),
                           config_id=ident if names.count(name) > 1 else "")
                for (name, ident), rs in groups.items()]
    return sorted(searches, key=lambda s: (*search_order(s.name, s.kind), s.config_id))


def _seed_order(run) -> tuple:
    return (run.seed is None, run.seed or 0, str(run.path))


def search_order(name: str, kind: str = "") -> tuple:
    order = list(SEARCH_NAMES)
    if name in SEARCH_NAMES:
        return (0, order.index(name), name)
    return (1, order.index(kind) if kind in SEARCH_NAMES else len(order), name)
