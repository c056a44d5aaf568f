"""Running a search into a run directory: what is checked before anything is written, the run
directory's life (a new run, `--resume`, `--fresh` moving an old one aside, the lock), and the signals
that interrupt a search (the loop itself: driver.py)."""
from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import resolve_callable
from ..errors import ConfigError, RunDirError, SearchAborted  # noqa: F401  (re-exported)
from ..settings import strategy_class
from ..space.space import load_space
from ..training.evaluate import describe, make_objective
from . import rundir
from .driver import Interrupted, Search
from .fitness import Objectives
from .records import population_statistics
from .runconfig import check_resume_compatible, write_config
from .runlock import RunLock

if TYPE_CHECKING:
    import os
    from collections.abc import Callable

    from ..settings import SearchConfig


def preflight(config: SearchConfig) -> None:
    """What can be checked before anything is written or trained, in this process whatever the
    executor: the space loads, the objective imports (a typo is one ConfigError, not a traceback per
    worker), and an objective that serves one space only (a benchmark table) accepts the run's."""
    space = load_space(config.space).with_objectives(len(config.objectives))
    Objectives(config.objectives, *describe(config.evaluator.dataset))    # a cost of one's own imports
    strategy_class(config.strategy.kind).preflight(space, config.strategy)
    objective = make_objective(config.evaluator)
    check_space = getattr(objective, "check_space", None)
    if check_space is not None:
        check_space(space)
    _check_fidelities(config, objective)
    _check_statistics(config)


# Populations the logbook compiles statistics of: from the first result on (one error), and a few.
_DRY_RUN_ERRORS = ([2.5], [2.5, 7.0, 31.0])


def _check_statistics(config) -> None:
    """Each of the config's `statistics:` functions runs on populations like a search's (as operators are
    tried before a search), so a function that cannot take them is one error now, not a crash later."""
    from types import SimpleNamespace
    for name, spec in config.statistics.items():
        function = resolve_callable(spec, f"statistics.{name}")
        for errors in _DRY_RUN_ERRORS:
            population = [SimpleNamespace(fitness=SimpleNamespace(values=(e,))) for e in errors]
            try:
                population_statistics({name: function}).compile(population)
            except Exception as exc:     # any failure of the user's function is the config's error
                where = f"{config.source}: " if getattr(config, "source", None) else ""
                raise ConfigError(f"{where}statistics.{name}: {spec} raised {type(exc).__name__}: {exc} on the errors "
                                  f"of a population of {len(errors)} ({errors}); the logbook applies it to the "
                                  "population's validation errors (a tuple of floats) after every result, from "
                                  "the first on [checked before the search]") from None


def _check_fidelities(config, objective) -> None:
    """A multi-fidelity strategy's top rung is the whole schedule its objective scores (filled in when not
    given), and the objective must be able to stop early: training, a table, or one taking `epochs`."""
    if not hasattr(config.strategy, "max_epochs"):
        return
    kind = config.evaluator.objective_kind
    where = f"{config.source}: " if getattr(config, "source", None) else ""
    fixed = kind.fidelity(objective, config.evaluator.training)
    schedule = fixed if fixed is not None else config.evaluator.training.epochs
    if config.strategy.max_epochs is None:
        config.strategy.max_epochs = schedule
    if config.strategy.min_epochs > config.strategy.max_epochs:    # the rungs would be full trainings only
        raise ConfigError(f"{where}strategy.min_epochs: expected at most max_epochs ({config.strategy.max_epochs}: the "
                          f"search schedule's epochs), got {config.strategy.min_epochs}")
    if fixed is not None and config.strategy.max_epochs != fixed:
        raise ConfigError(f"{where}strategy.max_epochs: expected the search schedule's epochs ({schedule}: its top "
                          f"rung is a full training), got {config.strategy.max_epochs}")
    if not kind.takes_epochs(objective):
        raise ConfigError(f"{where}evaluator.objective: {config.evaluator.objective} has no `epochs` parameter; a "
                          f"multi-fidelity search ({config.strategy.kind}) needs training, a table or an "
                          f"objective (arch, seed, epochs=None)")


def move_aside(run_dir: Path) -> Path:
    """Rename a run directory to the first free `<run_dir>.old-K` (K = 1, 2, ...) and return the new
    path; nothing is deleted. Refused (RunDirError) while another process holds the run: the lock
    file moves with the directory, so the lock is taken first and held across the rename."""
    k = 1
    while (aside := run_dir.with_name(f"{run_dir.name}.old-{k}")).exists():
        k += 1
    with RunLock(run_dir):
        try:
            run_dir.rename(aside)
        except OSError as exc:
            raise RunDirError(f"{run_dir}: cannot move the earlier run aside to {aside}: "
                              f"{exc.strerror or exc}") from None
    return aside


# A run's results: a directory holding any of them is never written over without --fresh.
RESULT_FILES = (rundir.EVALUATIONS, rundir.SUMMARY, rundir.LOGBOOK_JSON, rundir.LOGBOOK_PICKLE,
                rundir.HALL_OF_FAME_JSON, rundir.HALL_OF_FAME_PICKLE)


def open_run_dir(config: SearchConfig, run_dir: Path, *, resume: bool, fresh: bool,
                 log: Callable[[str], object] | None = None) -> bool:
    """Everything before a search takes its run directory's lock: the preflight, `fresh` moving an earlier
    run aside (said through `log`), and the refusals (a run there without `resume`, results without a
    journal). Returns whether the directory holds a started run (its journal)."""
    if resume and fresh:
        raise ValueError("resume continues the run in run_dir and fresh moves it aside: pass one of them")
    preflight(config)   # before anything moves: a config that cannot run leaves the old run in place
    # Only a directory that holds a run moves (never, say, a working directory given as --out).
    if fresh and any((run_dir / name).exists() for name in (rundir.JOURNAL, rundir.CONFIG, *RESULT_FILES)):
        aside = move_aside(run_dir)
        if log is not None:
            log(f"moved the earlier run in {run_dir} to {aside}")
    started_before = (run_dir / rundir.JOURNAL).exists()
    held = [name for name in RESULT_FILES if (run_dir / name).exists()]
    if (started_before or held) and not resume:
        raise RunDirError(f"{run_dir} already holds a run; pass --resume to continue it, --fresh to move it "
                          f"aside and start anew, or choose another --out")
    if held and not started_before:
        # Resuming rebuilds everything from the journal: without one it would start from nothing and
        # overwrite the results that are there.
        raise RunDirError(f"{run_dir} holds results ({', '.join(held)}) but no {rundir.JOURNAL}, so it cannot be "
                          f"resumed; --fresh moves it aside and starts anew, or choose another --out")
    run_dir.mkdir(parents=True, exist_ok=True)
    return started_before


def begin_session(config: SearchConfig, run_dir: Path, started_before: bool, command: str) -> list[str]:
    """Under the lock: refuse a resume with a changed config, save the config; returns the operator keys
    that changed (allowed: an evolution then adopts its journal's genomes)."""
    changed_operators = check_resume_compatible(run_dir / rundir.CONFIG, config) if started_before else []
    write_config(run_dir / rundir.CONFIG, config, command)
    return changed_operators


def run_search(config: SearchConfig, run_dir: str | os.PathLike, *, resume: bool = False, fresh: bool = False,
               progress: bool = False, command: str = "", log: Callable[[str], object] | None = None) -> dict:
    """Run (or resume) a search into `run_dir`; returns the summary. With `fresh`, a run already in
    `run_dir` is moved aside (`move_aside`, said through `log`) and a new one starts. Raises
    RunDirError for a run directory in use or holding another run, SearchAborted when most
    evaluations fail, Interrupted on SIGTERM/SIGINT (after marking in-flight evaluations interrupted)."""
    run_dir = Path(run_dir)
    started_before = open_run_dir(config, run_dir, resume=resume, fresh=fresh, log=log)
    with RunLock(run_dir):
        changed_operators = begin_session(config, run_dir, started_before, command)
        search = Search(config, run_dir)
        search.operators_changed = bool(changed_operators)
        search.session_notes = {"operators_changed": changed_operators} if changed_operators else {}
        previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            search.replay()
            if progress:
                from tqdm import tqdm
                search.bar = tqdm(total=config.budget, initial=search.trained, desc=config.name, unit="eval",
                                  dynamic_ncols=True)
            if threading.current_thread() is threading.main_thread():
                for s in previous:
                    signal.signal(s, search.on_signal)
            return search.run()
        except Interrupted as exc:
            search.interrupt(exc.signum)
            raise
        finally:
            if threading.current_thread() is threading.main_thread():
                for s, handler in previous.items():
                    signal.signal(s, handler)
            search.close()
