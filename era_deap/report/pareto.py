"""Pareto fronts of validation error against parameters, and their hypervolume, from evaluations.csv.

Every run gets a front, whatever it searched, from the `error` and `params` columns of its
evaluations.csv: for a run that minimised [error, params] it is the front its driver kept (summary.json's
`front`), for a single-objective run the front of the networks it happened to evaluate, so searches
compare on one plane. Only successful, non-cached evaluations count (a cached row repeats a
network already counted; a failure has no error).

The hypervolume is search/fitness.py's: error / 100 and log10(params) on fixed bounds, reference point
1.1 in both, by `moocore` (what DEAP's own indicator uses), so a run's number here equals its logbook's.

    fronts = search_fronts(search)   # per seed: the networks, the front, the hypervolume per evaluation
    fronts.median                    # the median seed by final hypervolume

On a benchmark table the true Pareto front is known: every network's mean error over the table's
training seeds against its parameters, non-dominated (`FrontGap`). A search's hypervolume gap is the
true front's hypervolume minus that of the front the search found, measured with the table's mean
errors of the networks on it (and the table's parameter counts). The same reasoning as the regret's
(statistics.py): a search observes one training seed per network, so its observed front may lie below
the true one by luck; measured with the means, its networks are points of the table, which the true
front weakly dominates, so the gap is >= 0, and it is 0 exactly when the search's networks dominate as
much as the true front does. It measures the networks a search would return, not the luck of the seed
it saw.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..search.fitness import Objectives, hypervolume
from ..settings import DatasetConfig
from ..space.architecture import complexity
from ..training.evaluate import describe
from .statistics import counted

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import TypeVar

    from .runs import Run, SearchRuns
    from .statistics import Benchmark

    Item = TypeVar("Item")

# Only `normalised` is used: the input shape and class count play no part in it.
ERROR_PARAMS = Objectives(["error", "params"], (1, 8, 8), 10)


@dataclass(frozen=True)
class EvaluatedNetwork:
    """A network a search evaluated (one counted evaluation), on the error x params plane."""
    evaluation: object       # rundir.Evaluation
    error: float
    params: int

    @property
    def point(self) -> tuple:
        return (self.error, self.params)

    @property
    def key(self) -> str:
        return self.evaluation.key


def dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    """`a` is no worse than `b` in every (minimised) coordinate and not equal to it."""
    return all(x <= y for x, y in zip(a, b)) and tuple(a) != tuple(b)


def add(front: list[Item], item: Item,
        point: Callable[[Item], Sequence[float]] = lambda item: item.point) -> list[Item]:
    """`front` with `item` offered to it: the same list when something in it dominates the item, else a new
    list without what the item dominates. Checking the kept points is enough: dominance is transitive.
    Networks with equal points are all kept (two networks, one trade-off)."""
    p = point(item)
    if any(dominates(point(kept), p) for kept in front):
        return front
    return [kept for kept in front if not dominates(p, point(kept))] + [item]


def nondominated(items: Iterable[Item], point: Callable[[Item], Sequence[float]] = lambda item: item.point) -> list:
    """The items no other item dominates, sorted by their points' last coordinate (params), then the first."""
    front: list = []
    for item in items:
        front = add(front, item, point)
    return sorted(front, key=lambda item: tuple(reversed(point(item))))


def normalised_hypervolume(points: Iterable[Sequence[float]]) -> float:
    """search/fitness.py's hypervolume of (error, params) points."""
    return hypervolume([ERROR_PARAMS.normalised(p) for p in points])


def running(rows: Iterable[EvaluatedNetwork | None], measure: Callable[[list[EvaluatedNetwork]], float]) -> list:
    """`measure(front)` after each row (an EvaluatedNetwork, or None for a row that adds nothing: a failure,
    a cached repeat), recomputed only when the front changes; 0.0 before the first network."""
    front, value, out = [], 0.0, []
    for item in rows:
        if item is not None:
            grown = add(front, item)
            if grown is not front:
                front, value = grown, measure(grown)
        out.append(value)
    return out


# --- one run, one search --------------------------------------------------------------------------

def dataset_shape(run: Run) -> tuple:
    """(input shape, classes) of the run's dataset, from its saved config (digits when it names none)."""
    config = run.search_config or {}
    given = {k.removeprefix("evaluator.dataset."): v for k, v in config.items()
             if k.startswith("evaluator.dataset.") and k.split(".")[-1] in ("name", "shape", "num_classes")}
    return describe(DatasetConfig(**given))


def objectives(run: Run) -> list:
    """What the run minimised (its saved config's `objectives`; [error] before they existed)."""
    names = (run.search_config or {}).get("objectives")
    return list(names) if isinstance(names, list) and names else ["error"]


@dataclass
class RunFront:
    run: object              # runs.Run
    rows: list               # per row of evaluations.csv: its EvaluatedNetwork, or None (failed or cached)
    front: list              # [EvaluatedNetwork], non-dominated, by params
    series: list             # hypervolume after each row (failed and cached ones carry it forward)

    @property
    def networks(self) -> list:
        """The counted evaluations as EvaluatedNetworks, in arrival order."""
        return [n for n in self.rows if n is not None]

    @property
    def hypervolume(self) -> float:
        return self.series[-1] if self.series else 0.0

    def hypervolume_at(self, n: int) -> float:
        """After the run's first n evaluations."""
        return self.series[min(n, len(self.series)) - 1] if n and self.series else 0.0


def run_front(run: Run) -> RunFront:
    shape = None
    rows = []
    counted_ids = {id(e) for e in counted(run.evaluations)}
    for e in run.evaluations:
        if id(e) not in counted_ids:
            rows.append(None)
            continue
        params = e.params
        if params is None:    # an old run without the column's value: the architecture arithmetic's
            shape = shape or dataset_shape(run)
            params = complexity(e.arch, *shape)["params"]
        rows.append(EvaluatedNetwork(e, e.error, params))
    series = running(rows, lambda front: normalised_hypervolume([n.point for n in front]))
    return RunFront(run, rows, nondominated(n for n in rows if n is not None), series)


@dataclass
class SearchFronts:
    search: object           # runs.SearchRuns
    runs: list               # [RunFront], by seed

    @property
    def objectives(self) -> list:
        return objectives(self.search.runs[0])

    @property
    def multi(self) -> bool:
        return len(self.objectives) > 1

    @property
    def median(self) -> RunFront | None:
        """The seed whose final hypervolume is the median of its search's (the lower of the middle two with
        an even count, the earliest seed on ties); None when no seed has a success."""
        ranked = sorted((r for r in self.runs if r.networks), key=lambda r: r.hypervolume)
        return ranked[(len(ranked) - 1) // 2] if ranked else None


def search_fronts(search: SearchRuns) -> SearchFronts:
    return SearchFronts(search, [run_front(r) for r in search.runs])


def any_multi_objective(searches: Iterable[SearchRuns]) -> bool:
    """True when some run of `searches` minimised several objectives: then the report has a Pareto part."""
    return any(len(objectives(r)) > 1 for s in searches for r in s.runs)


def logbook_disagreements(run_front: RunFront, tolerance: float = 1e-9) -> list:
    """Where the logbook's `hypervolume` (a run that minimised [error, params]) differs from the one
    recomputed from evaluations.csv."""
    run = run_front.run
    if run.logbook is None or objectives(run) != ["error", "params"]:
        return []
    at = {e.index: position for position, e in enumerate(run.evaluations)}
    problems = []
    for record in run.logbook:
        position, theirs = at.get(record.get("index")), record.get("hypervolume")
        if position is None or theirs is None:
            continue   # e.g. the CSV lost its last row
        ours = run_front.series[position]
        index = record["index"]
        if abs(ours - theirs) > tolerance:
            problems.append(f"index {index}: logbook {theirs:.6g}, evaluations.csv {ours:.6g}")
    return problems


# --- a benchmark table: the true front and the gap -------------------------------------------------

@dataclass(frozen=True)
class TableNetwork:
    key: str
    error: float             # mean over the table's seeds that trained
    params: int
    macs: int

    @property
    def point(self) -> tuple:
        return (self.error, self.params)


class FrontGap:
    """The true front of one benchmark table (a statistics.Benchmark) and the gap of its searches' runs."""

    def __init__(self, bench: Benchmark, fronts: Iterable[SearchFronts] = ()):
        self.bench = bench
        self.fronts = [f for f in fronts if f.search in bench.searches]   # SearchFronts on this table
        networks = bench.table.networks
        self.points = {k: TableNetwork(k, m, int(networks[k]["params"]), int(networks[k]["macs"]))
                       for k, m in bench.means.items()}
        self.true_front = nondominated(self.points.values())
        self.true_hypervolume = normalised_hypervolume([n.point for n in self.true_front])
        self._gaps: dict = {}    # id(RunFront) -> gaps: a figure and a table ask for the same run

    @property
    def name(self) -> str:
        return self.bench.name

    def measured(self, front: Iterable[EvaluatedNetwork]) -> float:
        """The hypervolume of a found front's networks, at the table's mean errors and parameters."""
        return normalised_hypervolume([self.points[n.key].point for n in front])

    def gap(self, front: Iterable[EvaluatedNetwork]) -> float:
        # max: moocore may order a sum differently for the same points; the gap itself is never below 0
        return max(0.0, self.true_hypervolume - self.measured(front))

    def gaps(self, run_front: RunFront) -> list:
        """The gap after each row of the run's evaluations.csv (the true hypervolume before its first
        success)."""
        if id(run_front) not in self._gaps:
            self._gaps[id(run_front)] = self._series(run_front)
        return self._gaps[id(run_front)]

    def _series(self, run_front) -> list:
        rows = run_front.rows
        values = running(rows, self.gap)
        first = next((i for i, item in enumerate(rows) if item is not None), len(rows))
        return [self.true_hypervolume] * first + values[first:]

    def gap_at(self, run_front: RunFront, n: int) -> float:
        """After the run's first n evaluations."""
        values = self.gaps(run_front)
        return values[min(n, len(values)) - 1] if n and values else self.true_hypervolume
