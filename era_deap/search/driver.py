"""The search driver (docs/design.md §1, §5, §6): one loop that serves every strategy.

    ask -> journal -> cache hit? (told at once, no budget) -> executor -> result -> journal -> tell

The driver owns the budget (unique trained architectures; failures count, cache hits do not), the
canonical-key cache, the durable journal, the logbook and the run directory. Resume rebuilds the
strategy from its seed and replays the journal's asks and tells in their original order; each
replayed ask must equal the journaled genome. Evaluations that were in flight are evaluated again;
nothing finished is ever redone.
"""
from __future__ import annotations

import signal
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import resolve_callable
from ..errors import ConfigError, JournalError, ReplayMismatch, RunDirError, SearchAborted  # noqa: F401  (re-exported)
from ..space.space import load_space
from ..training.evaluate import describe
from ..training.result import INVALID, EvalResult
from . import rundir
from .executor import Event, Resubmitted
from .executors import make_executor
from .fitness import Objectives
from .journal import Journal, damaged
from .records import RunRecorder, population_statistics
from .runconfig import code_hashes, config_hash
from .strategy import SearchExhausted, make_strategy
from .variation import OperatorFailed

if TYPE_CHECKING:
    import os
    from types import FrameType

    from ..settings import SearchConfig
    from ..space.genome import Individual

# Consecutive asks answered from the cache before the driver concludes the strategy is stuck.
MAX_CACHED_IN_A_ROW = 2000


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def fidelity(individual: Individual) -> int | None:
    """The epochs a multi-fidelity strategy asked for (`individual.epochs`), None for the full schedule."""
    return getattr(individual, "epochs", None)


def evaluation_seed(run_seed: int, n: int) -> int:
    """The training seed of the n-th ask, derived from (run seed, n) only."""
    return int(np.random.SeedSequence([run_seed, n]).generate_state(1)[0])


class Search:
    def __init__(self, config: SearchConfig, run_dir: str | os.PathLike):
        self.config = config
        self.run_dir = Path(run_dir)
        shape, classes = describe(config.evaluator.dataset)
        self.objectives = Objectives(config.objectives, shape, classes)
        self.space = load_space(config.space).with_objectives(len(self.objectives))
        self.strategy = make_strategy(self.space, config.strategy, config.seed)
        self.journal = Journal(self.run_dir / rundir.JOURNAL)
        extra = {name: resolve_callable(spec, f"statistics.{name}") for name, spec in config.statistics.items()}
        self.recorder = RunRecorder(self.run_dir, statistics=population_statistics(extra), objectives=self.objectives)
        self.cache: dict[str, EvalResult] = {}
        self.open: dict[int, tuple] = {}        # n -> (individual, key): asked, no result yet
        self.running: dict[int, str] = {}       # n -> key, at the executor
        self.waiting: dict[str, list[int]] = {}  # key -> asks of a network already running
        self.next_n = 0
        self.trained = 0                        # results that cost budget (not cached)
        self.failed: dict[str, int] = {}
        self.cached_in_a_row = 0
        self.elapsed_base = 0.0
        # A benchmark table reports the training time each look-up stands for: the run's clock is then
        # simulated (those seconds summed, shared over the workers), not the look-ups' wall time.
        self.simulated = config.evaluator.objective_kind.simulated_clock
        self.code = code_hashes(config)     # the user modules it runs, to tell a stale run by
        self.operators_changed = False          # resuming with other operators: adopt the journal's asks
        self.operator_failure = None
        self.exhausted = False                  # asking has stopped (space exhausted, stuck, operator)
        self.epochs_used = 0                    # training epochs of every evaluation that cost budget
        self.session_notes = {}                 # extra fields of this session's journal record
        self.held = None                        # n -> result of the current batch (ask_batch mode)
        # Replay: results of the last batch were journaled, so all its asks were too (ask_batch mode)
        self.batch_told = False
        self.simulated_seconds = 0.0
        self.started = time.monotonic()
        self.stop_reason = None
        self.executor = None
        self.bar = None
        # Signals raise only while waiting for an evaluation; during bookkeeping they are held until
        # the next wait, so the journal never misses an ask that is in flight.
        self.interruptible = False
        self.held_signal = None
        self.session_written = False

    # --- the shared path of live and replayed results ----------------------------------------------

    def _finish(self, n: int, result: EvalResult, elapsed: float) -> None:
        cache_key = self._cache_key(n)
        individual, key = self.open.pop(n)
        individual.fitness.values = self.objectives.values(individual, result)
        epochs = fidelity(individual)
        if not result.cached:
            self.trained += 1
            self.epochs_used += self._epochs_of(individual, result)
            self.simulated_seconds += self._simulated_cost(result)
            if cache_key not in self.cache:
                self.cache[cache_key] = result
            if not result.ok:
                self.failed[result.status] = self.failed.get(result.status, 0) + 1
        params, depth = self._complexity(individual, result)
        self.strategy.tell(individual, result)
        self.recorder.add(individual, result, key=key, elapsed=elapsed, seed=evaluation_seed(self.config.seed, n),
                          extras=self.strategy.stats(), params=params, depth=depth,
                          population=getattr(self.strategy, "population", None), epochs=epochs)
        if self.bar is not None:
            self.bar.n = self.trained
            best = self.recorder.best()
            self.bar.set_postfix_str(f"best {best['error']:.2f}%" if best else "no success yet", refresh=True)

    def _complexity(self, individual, result):
        if result.params is not None or not self.space.is_valid(individual):
            return result.params, result.depth
        from ..space.architecture import complexity
        from ..space.genome import to_arch
        from ..training.evaluate import describe
        shape, classes = describe(self.config.evaluator.dataset)
        info = complexity(to_arch(individual), shape, classes)
        return info["params"], info["depth"]

    def _ask(self):
        individual = self.strategy.ask()
        n, self.next_n = self.next_n, self.next_n + 1
        key = self.space.key(individual) if self.space.is_valid(individual) else "invalid"
        self.open[n] = (individual, key)
        return n, individual, key

    # --- replay ------------------------------------------------------------------------------------

    def replay(self) -> None:
        for number, record in enumerate(self.journal.read(), start=1):
            kind = record["type"]
            if kind == "ask":
                if not self.open:               # every earlier ask has its result: a new batch begins
                    self.batch_told = False
                n, individual, _ = self._ask()
                if n == record["n"] and list(individual) != record["genome"] and self.operators_changed:
                    individual = self._adopt(n, individual, record["genome"])
                if (n != record["n"] or list(individual) != record["genome"]
                        or fidelity(individual) != record.get("epochs")):
                    raise ReplayMismatch(
                        f"{self.journal.path}: record {number}: resuming asked {list(individual)} as ask "
                        f"{n}, but the journal holds {record['genome']} as ask {record['n']}; the strategy "
                        f"or its settings changed since this run started")
            elif kind == "result":
                if record["n"] not in self.open:
                    raise JournalError(damaged(self.journal.path, self.journal.lines[number - 1],
                                               f"a result for ask {record['n']}, which is not an open ask of "
                                               f"this journal", number == len(self.journal.lines)))
                try:
                    result = EvalResult.from_dict(record["result"])
                except (TypeError, ValueError, KeyError) as exc:
                    raise JournalError(damaged(self.journal.path, self.journal.lines[number - 1],
                                               f"its result: {exc}", number == len(self.journal.lines))) from None
                self._finish(record["n"], result, record["elapsed"])
                self.batch_told = True
                self.elapsed_base = max(self.elapsed_base, record["elapsed"])
            elif kind == "session":
                self.elapsed_base = max(self.elapsed_base, record.get("elapsed", 0.0))

    def _adopt(self, n: int, individual, genome):
        """Operators changed since the journal was written: its genome, not the new operator's, was
        asked (and maybe trained) then. The strategy takes it in the same role, when it can."""
        try:
            adopted = self.strategy.adopt(individual, genome)
        except NotImplementedError:
            return individual
        key = self.space.key(adopted) if self.space.is_valid(adopted) else "invalid"
        self.open[n] = (adopted, key)
        return adopted

    # --- live loop ---------------------------------------------------------------------------------

    def elapsed(self) -> float:
        if self.simulated:
            return self.simulated_seconds
        return self.elapsed_base + time.monotonic() - self.started

    def _cache_key(self, n: int) -> str:
        """A network at a fidelity: its key, with `@r` for the first r epochs of the schedule."""
        individual, key = self.open[n]
        epochs = fidelity(individual)
        return key if epochs is None or key == "invalid" else f"{key}@{epochs}"

    def _dispatch(self, n: int) -> None:
        """Evaluate ask n: invalid and cached ones at once, a network already running later, else submit."""
        individual, _ = self.open[n]
        key = self._cache_key(n)
        if key == "invalid":
            problems = "; ".join(self.space.problems(individual))
            self._record(n, EvalResult(INVALID, message=f"genome not in the space: {problems}"))
        elif key in self.cache:
            self.cached_in_a_row += 1
            cached = EvalResult.from_dict({**self.cache[key].to_dict(), "cached": True, "seconds": 0.0})
            self._record(n, cached)
        elif key in self.running.values() or (self.held and key in {self._cache_key(m) for m in self.held}):
            self.waiting.setdefault(key, []).append(n)
        else:
            self.cached_in_a_row = 0
            if self.executor is None:
                self.executor = make_executor(self.config.evaluator, self.config.seed, self.config.evaluator.workers)
            from ..space.genome import to_arch
            epochs = fidelity(individual)
            self.executor.submit(n, to_arch(individual), evaluation_seed(self.config.seed, n),
                                 **({"epochs": epochs} if epochs is not None else {}))
            self.running[n] = key

    def _journal(self, record: dict) -> None:
        """Append to the journal; a session's first record is preceded by a `session` record, so a
        session that has nothing to do (a finished run resumed) leaves the journal untouched."""
        if not self.session_written:
            self.session_written = True
            self.journal.append({"type": "session", "started": time.time(), "elapsed": round(self.elapsed_base, 3),
                                 **self.session_notes})
        self.journal.append(record)

    def _simulated_cost(self, result: EvalResult) -> float:
        return 0.0 if result.cached else result.seconds / max(1, self.config.evaluator.workers)

    def _record(self, n: int, result: EvalResult) -> None:
        elapsed = self.elapsed() + (self._simulated_cost(result) if self.simulated else 0.0)
        _, key = self.open[n]
        self._journal({"type": "result", "n": n, "index": len(self.recorder.rows) + 1,
                             "elapsed": round(elapsed, 3), "key": key,
                             "seed": evaluation_seed(self.config.seed, n), "result": result.to_dict()})
        self._finish(n, result, elapsed)

    def _epochs_of(self, individual, result) -> int:
        """Training epochs an evaluation cost: its curve's length (a table's, or a training's), else
        what was asked (an early failure stops sooner, but the driver cannot know how much)."""
        if result.curve:
            return len(result.curve)
        return fidelity(individual) or self.config.evaluator.training.epochs

    def _epochs_left(self) -> float:
        """`budget_epochs` minus the epochs trained and asked for; infinite without such a budget."""
        if self.config.budget_epochs is None:
            return float("inf")
        pending = [self.open[n][0] for n in list(self.running) + [n for ns in self.waiting.values() for n in ns]]
        asked = sum(fidelity(i) or self.config.evaluator.training.epochs for i in pending)
        return self.config.budget_epochs - self.epochs_used - asked

    def _budget_left(self) -> int:
        return self.config.budget - self.trained - len(self.running) - sum(map(len, self.waiting.values()))

    def _capacity(self) -> int:
        return self.executor.capacity if self.executor is not None else max(1, self.config.evaluator.workers)

    def _space_fully_trained(self) -> bool:
        """Every unique network of the space has a full training: any further ask is a cache hit (without
        this, a small space spins through MAX_CACHED_IN_A_ROW asks before stopping as "stuck")."""
        full = sum(1 for key in self.cache if "@" not in key)
        return full >= self.space.n_unique

    def _ask_one(self) -> int | None:
        """Ask the strategy once and journal it; None when asking must stop (then `exhausted` is set)."""
        if self.held_signal is not None:
            raise Interrupted(self.held_signal)
        if self.cached_in_a_row and self._space_fully_trained():
            self.exhausted, self.stop_reason = True, "exhausted"
            return None
        if self.cached_in_a_row >= MAX_CACHED_IN_A_ROW:
            self.exhausted, self.stop_reason = True, "stuck"
            return None
        try:
            n, individual, _ = self._ask()
        except SearchExhausted:
            self.exhausted, self.stop_reason = True, "exhausted"
            return None
        except OperatorFailed as exc:
            # Ask nothing more, but keep what is training: every finished network is kept.
            self.exhausted, self.operator_failure = True, exc
            return None
        epochs = fidelity(individual)
        self._journal({"type": "ask", "n": n, "genome": list(individual), **({"epochs": epochs} if epochs else {})})
        return n

    def run(self) -> dict:
        if self.config.evaluator.executor != "local":
            # Connect before writing anything: a mistyped scheduler address must leave no run behind.
            self.executor = make_executor(self.config.evaluator, self.config.seed, self.config.evaluator.workers)
        if self.config.ask_batch:
            self._run_batches(self.config.ask_batch)
        else:
            self._run_asynchronously()
        if self.operator_failure is not None:
            self.stop_reason = "operator"
            self.save(finished=False)
            raise OperatorFailed(f"{self.operator_failure}. Every network evaluated so far is in "
                                 f"{self.run_dir / rundir.JOURNAL}; fix the operator and continue with --resume")
        self.stop_reason = self.stop_reason or "budget"
        return self.save(finished=True)

    def _run_asynchronously(self) -> None:
        """A worker gets the next ask as soon as it is free; results are told as they arrive."""
        for n in sorted(self.open):  # in flight when the last session ended
            self._dispatch(n)
        while True:
            while (not self.exhausted and self._budget_left() > 0 and self._epochs_left() > 0
                   and len(self.running) < self._capacity()):
                n = self._ask_one()
                if n is None:
                    break
                self._dispatch(n)
            if not self.running:
                break
            self._handle(self._next_event())
            self._check_failures()

    def _run_batches(self, size: int) -> None:
        """`ask_batch: N`: N asks, evaluated on however many workers there are, told in ask order once all
        are back. The order of asks and tells never depends on timing, so a seed gives the same run with
        any number of workers; the price is idle workers while the slowest of a batch trains."""
        # The batch in flight when the last session ended: complete if some of its results were told
        # (a batch asks all its members before evaluating any), else its asking may have been cut short.
        # No open ask: the last batch was told in full (a kill between batches) and a new one begins.
        batch = sorted(self.open)
        complete = self.batch_told and bool(batch)
        while True:
            while (not complete and len(batch) < size and not self.exhausted
                   and self._budget_left() - len(batch) > 0 and self._epochs_left() > 0):
                n = self._ask_one()
                if n is None:
                    break
                batch.append(n)
            if not batch:
                break
            self._evaluate_batch(batch)
            self._check_failures()
            batch, complete = [], False

    def _evaluate_batch(self, batch: list) -> None:
        self.held = {}
        queue = list(batch)
        while queue or self.running:
            while queue and len(self.running) < self._capacity():
                self._dispatch(queue.pop(0))   # a cache hit or an invalid genome is told at once
            if self.running:
                self._handle(self._next_event())
        held, self.held = self.held, None
        for n in sorted(held):
            key = self._cache_key(n)
            self._record(n, held[n])
            for waiter in self.waiting.pop(key, []):
                self._dispatch(waiter)

    def _next_event(self):
        if self.held_signal is not None:
            raise Interrupted(self.held_signal)
        self.interruptible = True
        try:
            return self.executor.next_event()
        finally:
            self.interruptible = False

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.interruptible:
            raise Interrupted(signum)
        self.held_signal = signum

    def _handle(self, event: Event) -> None:
        if isinstance(event, Resubmitted):
            self._journal({"type": "resubmitted", "n": event.n, "reason": event.reason})
            return
        n = event.n
        key = self.running.pop(n)
        if self.held is not None:   # a batch tells its results together, in ask order
            self.held[n] = event.result
            return
        self._record(n, event.result)
        for waiter in self.waiting.pop(key, []):
            self._dispatch(waiter)

    def _check_failures(self) -> None:
        done, failed = self.trained, sum(self.failed.values())
        evaluator = self.config.evaluator
        if done >= evaluator.min_evaluations_before_stop and failed > evaluator.max_failure_fraction * done:
            self.stop_reason = "failures"
            self.save(finished=False)
            counts = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items()))
            raise SearchAborted(f"{failed} of {done} evaluations failed ({counts}); stopping. See "
                                f"{self.run_dir / rundir.EVALUATIONS} (column message) and "
                                f"{self.run_dir / rundir.JOURNAL} for the tracebacks")

    def interrupt(self, signum: int) -> None:
        for n in sorted(self.running):
            self._journal({"type": "interrupted", "n": n, "signal": signal.Signals(signum).name})
        self.stop_reason = "interrupted"
        self.save(finished=False)

    # --- outputs -----------------------------------------------------------------------------------

    def summary(self, finished: bool) -> dict:
        # The budget counts every result that is not a cache hit, invalid genomes included; but an
        # invalid genome is never trained, so it is counted apart from the trainings and their failures:
        # budget_used = trained + invalid, trained = ok + sum(failed).
        invalid = self.failed.get(INVALID, 0)
        failed = {status: count for status, count in sorted(self.failed.items()) if status != INVALID}
        counts = {"asked": self.next_n, "budget_used": self.trained, "epochs_used": self.epochs_used,
                  "trained": self.trained - invalid,
                  "cached": sum(e.cached for e in self.recorder.rows), "ok": len(self.recorder.errors)}
        return {"format": rundir.FORMAT, "name": self.config.name, "kind": self.config.strategy.kind,
                "seed": self.config.seed,
                "budget": self.config.budget, "finished": finished, "stop_reason": self.stop_reason,
                **counts, "failed": failed, "invalid": invalid, "in_flight": len(self.running),
                "best": self.recorder.best(), "elapsed": round(self.elapsed(), 3),
                "clock": "simulated" if self.simulated else "wall",
                **({"objectives": self.objectives.names, "front": self.recorder.front(),
                    "hypervolume": self.recorder.hypervolume} if self.objectives.multi else {}),
                **self.strategy.summary(), "config_hash": config_hash(self.config),
                **({"code": self.code} if self.code else {}), "versions": versions(),
                "run_dir": str(self.run_dir)}

    def save(self, finished: bool) -> dict:
        summary = self.summary(finished)
        self.recorder.save(summary)
        return summary

    def close(self) -> None:
        if self.executor is not None:
            self.executor.close()
            self.executor = None
        if self.bar is not None:
            self.bar.close()
        self.recorder.close()
        self.journal.close()


def versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version
    found = {"python": sys.version.split()[0]}
    for package in ("era-deap", "deap", "torch", "numpy", "gpytorch", "dask"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            pass
    return found
