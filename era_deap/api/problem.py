"""`era_deap.Problem`: the ERA problem the way DEAP expects one, for a user's own DEAP loop.

    problem = Problem("configs/bench/regularized_evolution.yaml", out="runs/mine", budget=200, seed=0)
    toolbox = problem.toolbox()    # individual, population, evaluate, map, mutate, mate, select, clone
    algorithms.eaMuPlusLambda(toolbox.population(n=50), toolbox, 50, 50, 0.3, 0.7, ngen=10)

Evaluations go through the driver (search/script.py): the cache (a network evaluated before costs
nothing), the budget (unique trained networks; asking for one more raises `BudgetExhausted`), the
configured workers (`map` evaluates a list in parallel, results in order), the journal, and a normal run
directory that `era report` and `era compare` read. A failed network gets the finite worst fitness.

`seed` seeds Python's `random` (DEAP's operators draw from it) and NumPy's global stream, so the same
script gives the same run; rerun after a crash, it replays the journal instead of training again. The
run directory's lock is held until `close()` (or the end of the process).
"""
from __future__ import annotations

import os
import random
import shlex
import sys
import weakref
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Optional, Sequence, Union

import numpy as np
from deap import base, tools

from ..search.run import begin_session, open_run_dir
from ..search.runlock import RunLock
from ..search.script import ScriptSearch
from ..search.variation import Variation
from ..settings import SearchConfig
from .configs import ConfigLike, problem_config, resume_budget
from .runs import Run

if TYPE_CHECKING:
    from ..space.genome import Individual


class Problem:
    def __init__(self, config: ConfigLike, out: Union[str, os.PathLike, None] = None, *, fresh: bool = False,
                 log: Optional[Callable[[str], None]] = None, **overrides: Any):
        """`config`: a search config file (its strategy, if any, lends its operators; see problem_config) or
        a loaded one; `out`: the run directory (default runs/<name>), continued if it holds this run;
        `fresh`: move a run there aside and start anew; `overrides`: as load_config (seed, budget, workers,
        objective, ...)."""
        config = problem_config(config, **overrides)
        self.out = Path(out) if out is not None else Path("runs") / config.name
        self.config: SearchConfig = resume_budget(config, self.out, overrides.get("budget"))
        started = open_run_dir(self.config, self.out, resume=not fresh, fresh=fresh, log=log)
        self._lock = RunLock(self.out, command="era_deap.Problem")
        self._lock.__enter__()
        try:
            begin_session(self.config, self.out, started, " ".join(shlex.quote(a) for a in [sys.executable,
                                                                                              *sys.argv]))
            self._search = ScriptSearch(self.config, self.out)
        except BaseException:
            self._lock.__exit__(None, None, None)
            raise
        self.space = self._search.space
        self._variation = Variation(self.space, self.config.strategy)
        self._closer = weakref.finalize(self, _release, self._search, self._lock)
        random.seed(self.config.seed)
        np.random.seed(self.config.seed % 2**32)

    def __repr__(self) -> str:
        return f"Problem({self.config.name!r}, out={str(self.out)!r}, budget={self.config.budget})"

    # --- evaluation ---------------------------------------------------------------------------------

    def evaluate(self, individual: Sequence) -> tuple:
        """The DEAP fitness of one genome: (error %, *other objectives), the worst values for a failure."""
        return self._evaluate([individual])[0]

    def map(self, function: Callable, iterable: Iterable) -> list:
        """DEAP's `toolbox.map`: `map(toolbox.evaluate, individuals)` evaluates them as one batch on the
        configured workers, results in order; any other function is mapped as the builtin map does."""
        items = list(iterable)
        target = function.func if isinstance(function, partial) and not function.args and not function.keywords \
            else function
        if target == self.evaluate:
            return self._evaluate(items)
        return list(map(function, items))

    def _evaluate(self, individuals: list) -> list:
        if not self._closer.alive:
            raise RuntimeError(f"{self!r} is closed; a new Problem on the same out continues the run")
        return self._search.evaluate(individuals)

    @property
    def exhausted(self) -> bool:
        """True once the budget is used up: asking for a network not evaluated yet raises BudgetExhausted."""
        return self._search.budget_left <= 0

    @property
    def budget_left(self) -> int:
        """Networks that may still be trained."""
        return max(0, self._search.budget_left)

    # --- variation: the configured operators, DEAP's conventions --------------------------------------

    def mutate(self, individual: Individual) -> tuple[Individual]:
        """The configured mutation, in place: returns (individual,)."""
        child = self._variation.mutate(self._variation.encode(individual))
        individual[:] = self._variation.decode(child)
        return (individual,)

    def mate(self, first: Individual, second: Individual) -> tuple[Individual, Individual]:
        """The configured crossover, in place: returns (first, second)."""
        a, b = self._variation.mate(self._variation.encode(first), self._variation.encode(second))
        first[:], second[:] = self._variation.decode(a), self._variation.decode(b)
        return first, second

    def select(self, population: list, k: int) -> list:
        """The configured selection, else DEAP's selTournament (tournsize 3), or selNSGA2 with several
        objectives: k members of `population`."""
        if "select" in self._variation.names:
            return self._variation.select(population, k)
        if self.space.objectives > 1:
            return tools.selNSGA2(population, k)
        return tools.selTournament(population, k, tournsize=3)

    def toolbox(self) -> base.Toolbox:
        """A DEAP Toolbox for this problem: individual (a random canonical genome, drawn from `random` as
        `strategy.sampling` says), population, evaluate, map, mutate, mate, select, clone."""
        toolbox = base.Toolbox()
        toolbox.register("individual", self.space.draw, random, self.config.strategy.sampling)
        toolbox.register("population", tools.initRepeat, list, toolbox.individual)
        toolbox.register("evaluate", self.evaluate)
        toolbox.register("map", self.map)
        toolbox.register("mutate", self.mutate)
        toolbox.register("mate", self.mate)
        toolbox.register("select", self.select)
        return toolbox

    # --- the run directory --------------------------------------------------------------------------

    def run(self) -> Run:
        """The run directory as `load_run` reads it (files as of the last evaluation)."""
        return Run(self.out)

    def close(self) -> None:
        """Mark the run finished (stop reason `budget`, or `closed` before the budget), stop the workers and
        release the run directory. A closed problem evaluates nothing more."""
        if self._closer.alive:
            search = self._search
            search.stop_reason = search.stop_reason or "closed"
            search.save(finished=True)
            self._closer()

    def __enter__(self) -> "Problem":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _release(search, lock) -> None:
    """Stop the workers, close the files, release the lock (also when a problem is never closed)."""
    try:
        search.close()
    finally:
        lock.__exit__(None, None, None)
