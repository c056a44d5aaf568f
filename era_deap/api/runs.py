"""Runs from Python: run a search into a run directory, and read run directories back as DEAP objects.

    run = run_search("configs/bench/regularized_evolution.yaml", "runs/re", budget=50)
    run.logbook.select("index", "best")      # a deap.tools.Logbook, one record per evaluation
    run.best.key, run.best.error             # an Evaluation (a typed row of evaluations.csv)
    runs = load_runs("runs/bench")           # every run directory below, in path order

Everything is read through `RunDirectory` (search/rundir.py), the one reader of a run, each time a
property is asked: a run still being written moves on.
"""
from __future__ import annotations

import os
import pickle
import shlex
import sys
from pathlib import Path
from typing import Callable, Optional, Union

from deap import tools

from ..config import ConfigError
from ..report.runs import discover
from ..search import rundir
from ..search.records import widen_header
from ..search.run import run_search as _run_search
from ..search.rundir import Evaluation, RunDirectory
from ..search.script import KIND as SCRIPT_KIND
from ..settings import SearchConfig
from .configs import ConfigLike, load_config, resume_budget

PathLike = Union[str, os.PathLike]


class Run:
    """One run directory, read on demand."""

    def __init__(self, path: PathLike):
        self.path = Path(path)
        self.directory = RunDirectory(self.path)

    def __repr__(self) -> str:
        return f"Run({str(self.path)!r})"

    @property
    def config(self) -> SearchConfig:
        """The resolved config the run saved (config.yaml)."""
        return self.directory.config()

    @property
    def summary(self) -> dict:
        """summary.json: counts, the best network, why it stopped, the config hash; {} before the first save."""
        return self.directory.summary()

    @property
    def evaluations(self) -> list[Evaluation]:
        """Every finished evaluation in arrival order, as typed rows of evaluations.csv."""
        return self.directory.evaluations()

    @property
    def best(self) -> Optional[Evaluation]:
        """The best network trained successfully (the earlier on ties), or None."""
        ranked = self.directory.ranked_networks()
        return ranked[0] if ranked else None

    @property
    def logbook(self) -> tools.Logbook:
        """The run's DEAP Logbook: one record per evaluation (index, elapsed, error, status, cached, best,
        mean_all, mean_last50, and the strategy's statistics)."""
        saved = _unpickle(self.path / rundir.LOGBOOK_PICKLE)
        if saved is not None:
            return saved
        logbook = tools.Logbook()
        logbook.header = list(rundir.LOGBOOK_FIELDS)
        for record in self.directory.logbook() or []:
            logbook.record(**record)
            widen_header(logbook, record)
        return logbook

    @property
    def hall_of_fame(self) -> Optional[tools.HallOfFame]:
        """The run's DEAP HallOfFame (a ParetoFront with several objectives), or None before it is saved."""
        return _unpickle(self.path / rundir.HALL_OF_FAME_PICKLE)

    @property
    def finished(self) -> bool:
        return bool(self.summary.get("finished"))


def load_run(path: PathLike) -> Run:
    """The run in directory `path`; RunDirError when it holds no run (no evaluations.csv or journal)."""
    path = Path(path)
    if not any((path / name).exists() for name in (rundir.EVALUATIONS, rundir.JOURNAL)):
        from ..errors import RunDirError
        raise RunDirError(f"{path}: not a run directory (expected {rundir.EVALUATIONS} or {rundir.JOURNAL} in it)")
    return Run(path)


def load_runs(root: PathLike) -> list[Run]:
    """Every run directory in `root` or up to three levels below (a run, a search's seed-k/ runs, a
    profile, runs/ itself), in path order."""
    found, _, _ = discover(Path(root))
    return [Run(path) for path in sorted(found)]


def run_search(config: ConfigLike, out: Optional[PathLike] = None, *, resume: bool = False, fresh: bool = False,
               progress: bool = False, budget: Optional[int] = None, command: Optional[str] = None,
               log: Optional[Callable[[str], None]] = None) -> Run:
    """Run a search into `out` (default runs/<name>) and return it. `config`: a YAML file or a loaded
    config. `resume` continues the run in `out` (replaying its journal); `fresh` moves it aside first.
    `budget` overrides the config's; on resume it must be at least the run's, and without it the run keeps
    its own (the rule of `era search --resume`). `command` is recorded in config.yaml (default: this
    process's command line); `log` receives what is said along the way. Raises SearchAborted when most evaluations fail,
    RunDirError for a directory in use or holding another run, ConfigError for a bad config."""
    config = config if isinstance(config, SearchConfig) else load_config(config)
    if config.strategy.kind == SCRIPT_KIND:
        raise ConfigError(f"{config.source}: strategy.kind: deap is asked by a Python script through "
                          f"era_deap.Problem; run_search and `era search` run the other kinds")
    out = Path(out) if out is not None else Path("runs") / config.name
    if budget is not None:
        config = load_config(config, budget=budget)     # validated as the file's budget is
    if resume:
        config = resume_budget(config, out, budget)
    if command is None:
        command = " ".join(shlex.quote(a) for a in [sys.executable, *sys.argv])
    _run_search(config, out, resume=resume, fresh=fresh, progress=progress, command=command, log=log)
    return Run(out)


def _unpickle(path: Path):
    """A DEAP object a run pickled (its creator classes travel with it), or None without the file."""
    if not path.exists():
        return None
    with open(path, "rb") as f:
        return pickle.load(f)
