"""On a benchmark table the true Pareto front is known: every network's mean error over the table's
training seeds against its parameters, non-dominated. A search's hypervolume gap is the true front's
hypervolume minus that of the front the search found, measured with the table's mean errors of the
networks on it (and the table's parameter counts).

The same reasoning as the regret's (benchmark.py): a search observes one training seed per network, so
its observed front may lie below the true one by luck; measured with the means, its networks are points
of the table, which the true front weakly dominates, so the gap is >= 0, and it is 0 exactly when the
search's networks dominate as much as the true front does. It measures the networks a search would
return, not the luck of the seed it saw.
"""
from __future__ import annotations

from dataclasses import dataclass

from .pareto import normalised_hypervolume, nondominated, running


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
    """The true front of one benchmark table (a benchmark.Benchmark) and the gap of its searches' runs."""

    def __init__(self, bench, fronts=()):
        self.bench = bench
        self.fronts = [f for f in fronts if f.search in bench.searches]   # pareto.SearchFronts on this table
        networks = bench.table.networks
        self.points = {k: TableNetwork(k, m, int(networks[k]["params"]), int(networks[k]["macs"]))
                       for k, m in bench.means.items()}
        self.true_front = nondominated(self.points.values())
        self.true_hypervolume = normalised_hypervolume([n.point for n in self.true_front])
        self._gaps: dict = {}    # id(RunFront) -> gaps: a figure and a table ask for the same run

    @property
    def name(self) -> str:
        return self.bench.name

    def measured(self, front) -> float:
        """The hypervolume of a found front's networks, at the table's mean errors and parameters."""
        return normalised_hypervolume([self.points[n.key].point for n in front])

    def gap(self, front) -> float:
        # max: moocore may order a sum differently for the same points; the gap itself is never below 0
        return max(0.0, self.true_hypervolume - self.measured(front))

    def gaps(self, run_front) -> list:
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

    def gap_at(self, run_front, n: int) -> float:
        """After the run's first n evaluations."""
        values = self.gaps(run_front)
        return values[min(n, len(values)) - 1] if n and values else self.true_hypervolume

