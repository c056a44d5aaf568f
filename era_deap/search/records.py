"""What a search writes besides its journal: evaluations.csv, the DEAP Logbook and HallOfFame, and
summary.json (file names, columns and the Evaluation record in `rundir`). All of it can be rebuilt from
the journal, which is what resume does; these files are rewritten atomically so a crash never leaves
half a file."""
from __future__ import annotations

import io
import json
import pickle
import statistics
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

from deap import tools

from ..space.genome import to_arch
from . import rundir
from .fitness import hypervolume
from .safe_write import write_atomic, writing

if TYPE_CHECKING:
    from ..space.genome import Individual
    from ..training.result import EvalResult
    from .fitness import Objectives

RUNNING_FIELDS = ("best", "mean_all", "mean_last50")   # the logbook's columns that RunningErrors fills


class RunningErrors:
    """The running statistics of a search, one set per finished evaluation: best so far, mean of all and
    mean of the last `window` errors (None before the first). Only successful, non-cached results count:
    a failure has no error and a cached one repeats a network already counted. One home for the driver's
    logbook (RunRecorder) and the report's figure 5 (report/statistics.py's anytime_curves)."""

    def __init__(self, window: int = rundir.RECENT_WINDOW):
        self.errors: list[float] = []    # the counted errors in arrival order
        self.recent: deque = deque(maxlen=window)
        self.best: float | None = None
        self._total = 0.0                # a running sum: a whole-run mean per evaluation stays O(1)

    def add(self, result: EvalResult | rundir.Evaluation) -> bool:
        """Count `result` (anything with ok, cached and error: an EvalResult, a row of evaluations.csv)
        if it is a success that cost budget and trained the whole schedule; True when it counted."""
        if not result.ok or result.cached or getattr(result, "epochs", None) is not None:
            return False
        self.errors.append(result.error)
        self.recent.append(result.error)
        self.best = result.error if self.best is None else min(self.best, result.error)
        self._total += result.error
        return True

    def values(self) -> dict:
        """RUNNING_FIELDS -> value now."""
        if not self.errors:
            return dict.fromkeys(RUNNING_FIELDS)
        return {"best": self.best, "mean_all": self._total / len(self.errors),
                "mean_last50": statistics.fmean(self.recent)}


def population_statistics(extra: dict | None = None) -> tools.Statistics:
    """A DEAP `Statistics` of a population's errors: best and mean, plus `extra` {name: function}
    (the config's `statistics:`, e.g. {"population_std": numpy.std})."""
    stats = tools.Statistics(key=lambda individual: individual.fitness.values[0])
    stats.register("population_best", min)
    stats.register("population_mean", statistics.fmean)
    for name, function in (extra or {}).items():
        stats.register(name, function)
    return stats


def widen_header(logbook: tools.Logbook, record: dict) -> None:
    """Add the record's keys the logbook's header lacks (the strategy's own statistics, a rung's epochs), in
    the order they first appear: `print(logbook)` shows the columns of its header only."""
    logbook.header = list(logbook.header) + [k for k in record if k not in logbook.header]


class RunRecorder:
    """Keeps the per-evaluation tables and statistics of one run and writes them to its directory."""

    def __init__(self, run_dir: Path, hall_of_fame_size: int = 10, statistics: tools.Statistics | None = None,
                 objectives: Objectives | None = None):
        self.run_dir = Path(run_dir)
        # Several objectives (search/fitness.py): the hall of fame is DEAP's ParetoFront and every logbook
        # record carries the front's hypervolume on the fixed normalised scales.
        self.objectives = objectives if objectives is not None and objectives.multi else None
        self.hypervolume = 0.0
        # Compiled over the strategy's population (the evolutions'), DEAP-style, into every logbook record.
        self.statistics = statistics if statistics is not None else population_statistics()
        self.rows: list[rundir.Evaluation] = []
        self.logbook = tools.Logbook()
        self.logbook.header = list(rundir.LOGBOOK_FIELDS)
        self.hall_of_fame = tools.ParetoFront() if self.objectives else tools.HallOfFame(hall_of_fame_size)
        self.running = RunningErrors()
        self.best_row: rundir.Evaluation | None = None
        self._csv = None

    # --- per evaluation -----------------------------------------------------------------------------

    def add(self, individual: Individual, result: EvalResult, *, key: str, elapsed: float, seed: int,
            extras: dict | None = None, params: int | None = None, depth: int | None = None,
            population: list[Individual] | None = None, epochs: int | None = None) -> dict:
        """Record one finished evaluation; returns its logbook record. `epochs`: a multi-fidelity
        evaluation of the first epochs of the schedule only: its error does not compare with full
        trainings', so it stays out of the best-so-far statistics, the hall of fame and summary's best."""
        evaluation = rundir.Evaluation(
            index=len(self.rows) + 1, key=key, genes=tuple(individual), error=result.error,
            status=result.status, cached=bool(result.cached), params=result.params or params,
            depth=result.depth or depth,
            seconds=round(result.seconds, 3), elapsed=round(elapsed, 3), worker=result.worker, seed=seed,
            message=result.message.strip().splitlines()[-1][:300] if result.message else "", epochs=epochs)
        self.rows.append(evaluation)
        self._append_csv(evaluation)
        if epochs is None and self.running.add(result):
            if self.best_row is None or result.error < self.best_row.error:
                self.best_row = evaluation
            individual.key = key  # kept by the hall of fame's copy
            self.hall_of_fame.update([individual])
            if self.objectives:   # a front of a few dozen points: recomputing costs microseconds
                self.hypervolume = hypervolume([self.objectives.normalised(i.fitness.values)
                                                for i in self.hall_of_fame])
        record = {"index": evaluation.index, "elapsed": evaluation.elapsed, "error": result.error,
                  "status": result.status, "cached": bool(result.cached), **self.running.values(),
                  **(extras or {}),
                  **({"epochs": epochs} if epochs is not None else {}),
                  **(self.statistics.compile(population) if population else {}),
                  **({"hypervolume": self.hypervolume} if self.objectives else {})}
        self.logbook.record(**record)
        widen_header(self.logbook, record)
        return record

    @property
    def errors(self) -> list[float]:
        """Successful, non-cached errors in arrival order."""
        return self.running.errors

    def _append_csv(self, evaluation: rundir.Evaluation | None) -> None:
        """Append a row (None: just make sure the file and its header exist). Rewritten from the journal
        at every session start, so appending needs no fsync."""
        path = self.run_dir / rundir.EVALUATIONS
        with writing(path):
            if self._csv is None:
                self._csv = open(path, "w", newline="")
                rundir.write_header(self._csv)
            if evaluation is not None:
                rundir.write_row(self._csv, evaluation)
            self._csv.flush()

    # --- files --------------------------------------------------------------------------------------

    def save(self, summary: dict) -> None:
        self._append_csv(None)  # no evaluation yet: still leave a header-only CSV
        d = self.run_dir
        write_atomic(d / rundir.LOGBOOK_JSON, _json(list(self.logbook)))
        write_atomic(d / rundir.LOGBOOK_PICKLE, pickle.dumps(self.logbook))
        hof = [{"key": getattr(ind, "key", None), "arch": to_arch(ind), "error": ind.fitness.values[0],
                **({"objectives": self._named(ind)} if self.objectives else {})} for ind in self.hall_of_fame]
        write_atomic(d / rundir.HALL_OF_FAME_JSON, _json(hof))
        write_atomic(d / rundir.HALL_OF_FAME_PICKLE, pickle.dumps(self.hall_of_fame))
        write_atomic(d / rundir.SUMMARY, _json(summary))

    def front(self) -> list:
        """The Pareto front (several objectives): key, arch and the named objective values, error first."""
        return [{"key": getattr(ind, "key", None), "arch": to_arch(ind), "objectives": self._named(ind)}
                for ind in sorted(self.hall_of_fame, key=lambda i: i.fitness.values)] if self.objectives else []

    def _named(self, individual) -> dict:
        return dict(zip(self.objectives.names, individual.fitness.values))

    def best(self) -> dict | None:
        """summary.json's `best`: the best full training so far."""
        e = self.best_row
        if e is None:
            return None
        return {"key": e.key, "arch": e.arch, "error": float(e.error), "params": e.params or None,
                "depth": e.depth or None, "index": e.index}

    def close(self) -> None:
        if self._csv is not None:
            try:
                self._csv.close()
            except OSError:  # a full disk may refuse the final flush; the journal has everything
                pass
            self._csv = None


def _json(data) -> bytes:
    buffer = io.StringIO()
    json.dump(data, buffer, indent=1, default=str)
    return buffer.getvalue().encode()
