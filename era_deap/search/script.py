"""A search whose asks come from a user's DEAP script (`era_deap.Problem`), not from a strategy.

    search = ScriptSearch(config, run_dir)     # config.strategy.kind: deap
    search.evaluate([genome, ...])  -> [fitness tuple, ...]   in the order asked

The driver's machinery is the same as for every strategy (driver.py): each ask is journaled before it
is evaluated, a network already evaluated is answered from the cache at no cost, the budget counts
unique trained networks, results go to evaluations.csv, the logbook, the hall of fame and summary.json.
What differs is who asks. One call is one batch: every genome is asked first, then the batch runs on
the executor's workers; each result is journaled as it arrives (a crash loses no finished training)
and the batch is told in ask order at its end, so the run does not depend on which worker finished
first.

Replay is lazy, because the script, not a strategy, asks: the journal of an earlier session is read
at the start, and the n-th genome the script asks now is compared with the journal's n-th ask. Equal:
its journaled result answers it, nothing is trained. Different: `ReplayMismatch` (the script, its seed
or its config changed). Past the journal's end the search continues live. A rerun of the same seeded
script after a crash therefore trains only what the crash cut short.

At the budget: a genome that would train one network more than the budget is not asked; the batch's
earlier genomes are evaluated, the files written, and `BudgetExhausted` raised. Cache hits stay free.
"""
from __future__ import annotations

import contextlib
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, NoReturn, Union

import numpy as np

from ..errors import ConfigError, JournalError, ReplayMismatch
from ..settings import StrategyConfig
from ..space.genome import individual as make_individual
from ..space.genome import to_arch
from ..training.result import INVALID, EvalResult
from .driver import Search, evaluation_seed
from .executor import Resubmitted
from .executors import make_executor
from .journal import damaged
from .strategy import Strategy
from .variation import OperatorSpec, Variation, default_operator

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence

    from ..config import _KeyWhere
    from ..settings import SearchConfig
    from ..space.genome import Individual
    from ..space.space import SearchSpace

KIND = "deap"


class BudgetExhausted(Exception):
    """The script asked to train a network beyond the budget. Everything evaluated before is in the run
    directory; networks already evaluated can still be asked (free)."""


@dataclass
class ScriptConfig(StrategyConfig):
    """strategy.kind: deap. The operators of the toolbox `Problem.toolbox()` gives the script (as the
    evolutions' in evolution.py); `sampling` is how `toolbox.individual` draws."""
    mutate: Union[str, OperatorSpec] = default_operator("era_deap.operators:mut_uniform_reset", n_genes=1)
    mate: Union[str, OperatorSpec] = default_operator("deap.tools:cxUniform", indpb=0.5)
    select: Union[str, OperatorSpec, None] = None   # None: deap.tools:selTournament (tournsize 3), or
                                                    # selNSGA2 with several objectives
    encoding: Literal["values", "positions"] = "values"
    kind: str = KIND

    def __post_init__(self):
        for name in ("mutate", "mate", "select"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, OperatorSpec(getattr(self, name)))

    def check(self, at: _KeyWhere) -> None:
        for name in ("mutate", "mate", "select"):
            spec = getattr(self, name)
            if spec is not None and ":" not in spec.function:
                at.fail(name, "'package.module:function' or {function: ..., kwargs: {...}}", spec.function)


class ScriptStrategy(Strategy):
    """The registry's entry for `kind: deap`: the script asks, so this strategy never does."""
    kind = KIND
    Config = ScriptConfig

    @classmethod
    def preflight(cls, space: SearchSpace, config: ScriptConfig) -> None:
        Variation(space, config).check(tournament_size=2)

    def ask(self) -> NoReturn:
        raise ConfigError("strategy.kind: deap is asked by a Python script through era_deap.Problem; "
                          "`era search` runs the other kinds")

    def tell(self, individual: Individual, result: EvalResult) -> None:
        pass


class ScriptSearch(Search):
    def __init__(self, config: SearchConfig, run_dir: str | os.PathLike):
        super().__init__(config, run_dir)
        self.pending = self.journal.read()     # an earlier session's records, replayed as the script asks
        self.cursor = 0
        self.arrived: dict[int, tuple] = {}    # n -> (result, elapsed): journaled, told at the batch's end
        self.answers: dict[int, tuple] = {}    # n -> fitness values, until handed back
        self.told_elapsed = 0.0

    @property
    def budget_left(self) -> int:
        return self.config.budget - self.trained

    def evaluate(self, genomes: Iterable[Sequence[object]]) -> list[tuple]:
        """The fitness of each genome, in order (module docstring)."""
        asked, refused = [], False
        with _global_random_kept():
            for genome in genomes:
                n = self._ask_genome(genome)
                if n is None:
                    refused = True
                    break
                asked.append(n)
            self._replay_until_ask()          # the results of this batch an earlier session journaled
            self._evaluate_open()
            self._tell_in_ask_order()
            self._check_failures()
        if self.budget_left <= 0:
            self.stop_reason = "budget"
        self.save(finished=self.stop_reason is not None)
        if refused:
            raise BudgetExhausted(f"budget of {self.config.budget} trained networks used up; the run is in "
                                  f"{self.run_dir}")
        return [self.answers.pop(n) for n in asked]

    # --- asking -------------------------------------------------------------------------------------

    def _ask_genome(self, genome) -> int | None:
        """Open ask n for `genome` (journaled, or matched with the journal's n-th ask); None when it would
        train a network beyond the budget."""
        record = self._replay_until_ask()
        genes = [g.item() if isinstance(g, np.generic) else g for g in genome]
        individual = make_individual(genes, len(self.objectives))   # a copy: the script's stays untouched
        key = self.space.key(individual) if self.space.is_valid(individual) else "invalid"
        if self._costs_budget(key) and self._open_cost() >= self.budget_left:
            return None
        n, self.next_n = self.next_n, self.next_n + 1
        self.open[n] = (individual, key)
        if record is None:
            self._journal({"type": "ask", "n": n, "genome": genes})
            return n
        line = self.journal.lines[self.cursor]
        self.cursor += 1
        if record["n"] != n or record["genome"] != genes or record.get("epochs") is not None:
            raise ReplayMismatch(
                f"{self.journal.path}: line {line}: the script asked {genes} as evaluation {n}, but the journal "
                f"holds {record['genome']} as evaluation {record['n']}: the script, its seed or its config changed "
                f"since this run started (a rerun must ask the same genomes in the same order); pass fresh=True "
                f"to move the old run aside and start anew, or choose another out")
        return n

    def _costs_budget(self, key: str) -> bool:
        return key == "invalid" or (key not in self.cache and key not in {k for _, k in self.open.values()})

    def _open_cost(self) -> int:
        """Budget the open asks will spend: each invalid genome, each distinct network not cached."""
        keys = [k for _, k in self.open.values()]
        return keys.count("invalid") + len({k for k in keys if k != "invalid" and k not in self.cache})

    # --- results: journaled as they arrive, told in ask order -----------------------------------------

    def _replay_until_ask(self) -> dict | None:
        """Take the journal's records up to its next ask (returned, not consumed); None past its end."""
        while self.cursor < len(self.pending):
            record, line = self.pending[self.cursor], self.journal.lines[self.cursor]
            if record["type"] == "ask":
                return record
            self.cursor += 1
            if record["type"] == "result":
                last = self.cursor == len(self.pending)
                if record["n"] not in self.open or record["n"] in self.arrived:
                    raise JournalError(damaged(self.journal.path, line, f"a result for ask {record['n']}, which is "
                                                                        f"not an open ask of this journal", last))
                try:
                    result = EvalResult.from_dict(record["result"])
                except (TypeError, ValueError, KeyError) as exc:
                    raise JournalError(damaged(self.journal.path, line, f"its result: {exc}", last)) from None
                self.arrived[record["n"]] = (result, record["elapsed"])
                self.elapsed_base = max(self.elapsed_base, record["elapsed"])
            elif record["type"] == "session":
                self.elapsed_base = max(self.elapsed_base, record.get("elapsed", 0.0))
        return None

    def _evaluate_open(self) -> None:
        """Evaluate the open asks without a result: invalid and cached ones at once, a network asked twice
        in the batch once (the second answered from the first, cached), the rest on the executor."""
        first = {self._cache_key(n): n for n in sorted(self.arrived, reverse=True)}
        queue, repeats = [], []
        for n in sorted(set(self.open) - set(self.arrived)):
            key = self._cache_key(n)
            if key == "invalid":
                problems = "; ".join(self.space.problems(self.open[n][0]))
                self._arrive(n, EvalResult(INVALID, message=f"genome not in the space: {problems}"))
            elif key in self.cache:
                self._arrive(n, _cached(self.cache[key]))
            elif key in first:
                repeats.append(n)
            else:
                first[key] = n
                queue.append(n)
        while queue or self.running:
            while queue and len(self.running) < self._capacity():
                self._submit(queue.pop(0))
            event = self._next_event()
            if isinstance(event, Resubmitted):
                self._journal({"type": "resubmitted", "n": event.n, "reason": event.reason})
            else:
                self.running.pop(event.n)
                self._arrive(event.n, event.result)
        for n in repeats:
            self._arrive(n, _cached(self.arrived[first[self._cache_key(n)]][0]))

    def _submit(self, n: int) -> None:
        if self.executor is None:
            self.executor = make_executor(self.config.evaluator, self.config.seed, self.config.evaluator.workers)
        self.executor.submit(n, to_arch(self.open[n][0]), evaluation_seed(self.config.seed, n))
        self.running[n] = self._cache_key(n)

    def _arrive(self, n: int, result: EvalResult) -> None:
        """Journal a result now (durable: a crash later in the batch keeps it), to be told later."""
        if self.simulated:
            waiting = sum(self._simulated_cost(r) for r, _ in self.arrived.values())
            elapsed = self.simulated_seconds + waiting + self._simulated_cost(result)
        else:
            elapsed = self.elapsed()
        self._journal({"type": "result", "n": n, "elapsed": round(elapsed, 3), "key": self.open[n][1],
                       "seed": evaluation_seed(self.config.seed, n), "result": result.to_dict()})
        self.arrived[n] = (result, round(elapsed, 3))

    def _tell_in_ask_order(self) -> None:
        """Record the batch in ask order, whatever order its results arrived in, so the run does not depend
        on which worker finished first. A row's elapsed is when it could be told: its own arrival, or an
        earlier ask's if that came later."""
        for n in sorted(self.arrived):
            result, elapsed = self.arrived.pop(n)
            self.told_elapsed = max(self.told_elapsed, elapsed)
            individual = self.open[n][0]
            self._finish(n, result, self.told_elapsed)
            self.answers[n] = individual.fitness.values


def _cached(result: EvalResult) -> EvalResult:
    """A network's earlier result, answering a repeated ask: no training, no budget."""
    return EvalResult.from_dict({**result.to_dict(), "cached": True, "seconds": 0.0})


@contextlib.contextmanager
def _global_random_kept():
    """Evaluations in this process (workers: 0) may draw from the global `random` and NumPy streams; the
    script's DEAP loop draws from them too, and a replayed evaluation draws nothing. Keeping the streams
    as they were makes the script's draws the same whether an evaluation was trained or replayed."""
    state, np_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(state)
        np.random.set_state(np_state)
