"""Multi-start best-improvement local search (thesis A.2.2, HyperMapper), on the ask/tell interface.

1. Random phase: `random_samples` networks drawn at random (`strategy.sampling`, without replacement).
2. Walks: from each of the `starts` best random samples in turn, best first, a best-improvement walk:
   evaluate every neighbour of the current point (`space.neighbours`, the HyperMapper rule), move to
   the best one if it beats the current point, else stop there (a local optimum).
3. Continuation: when the starts are used up and budget remains, walk again from the best evaluated
   network whose neighbourhood has not been explored yet; when there is none, a random network.

Walks run one after another, best start first: one best-improvement step costs ~23 evaluations in the
default space, so expanding all 10 starts in lockstep would spend ~230 evaluations before anything
moved, more than a 200-network budget leaves after the random phase.

Several workers: a step needs its whole neighbourhood, so neighbours are asked one by one and the walk
moves when the last one is told. While a walk waits on neighbours in flight, the next ask opens the
next start's walk (and so on); when nothing can be opened, or while the random phase is still in
flight (the starts need its ranking), the ask is a random network. With one worker nothing waits and
the search is exactly the sequential algorithm above.

A network is never asked twice: neighbours evaluated earlier (by the random phase or another walk)
are reused, and a walk that reaches an already explored point stops (it would retrace an old walk).
Failed evaluations are never starts, never moved to.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from era_deap.config import bounded
from era_deap.settings import StrategyConfig

from .sampling import SamplingStrategy


@dataclass
class LocalSearchConfig(StrategyConfig):
    random_samples: int = bounded(50, min=1)  # thesis A.2.2 (HyperMapper default 10,000)
    starts: int = bounded(10, min=1)          # best-improvement searches from the best samples

    def check(self, at):
        if self.starts > self.random_samples:
            at.fail("starts", f"at most random_samples ({self.random_samples})", self.starts)


@dataclass
class Walk:
    current: str                                    # key of the point whose neighbourhood is explored
    neighbours: list = field(default_factory=list)  # keys of its canonical neighbours, in gene order


class LocalSearch(SamplingStrategy):
    kind = "local_search"
    Config = LocalSearchConfig

    def __init__(self, space, config, seed: int):
        super().__init__(space, config, seed)
        self.genomes: dict[str, list] = {}       # key -> canonical genes, for every asked network
        self.errors: dict[str, float | None] = {}  # key -> error of a told network (None: failed)
        self.told: list[str] = []                # keys in tell order (deterministic tie-breaking)
        self.random_phase: list[str] = []        # keys of the first `random_samples` asks
        self.starts: list[str] | None = None     # the best random samples, best first (once ranked)
        self.next_start = 0
        self.walks: list[Walk] = []
        self.explored: set[str] = set()          # points whose whole neighbourhood was evaluated
        self.local_optima: list[str] = []
        self.walks_started = 0

    # --- ask/tell ----------------------------------------------------------------------------------

    def ask(self):
        if len(self.random_phase) < self.config.random_samples:
            genome = self._ask_random()
            self.random_phase.append(self.space.key(genome))
            return genome
        if any(k not in self.errors for k in self.random_phase):
            return self._ask_random()  # the starts need the whole random phase ranked
        if self.starts is None:
            self.starts = self._best(self.random_phase)[:self.config.starts]
        while True:
            for walk in list(self.walks):
                self._advance(walk)
            for walk in self.walks:
                key = next((k for k in walk.neighbours if not self.sampler.used(k)), None)
                if key is not None:
                    return self._ask(self.genomes[key])
            start = self._next_start()
            if start is None:
                return self._ask_random()
            self._open(start)

    def tell(self, individual, result) -> None:
        key = self.space.key(individual)
        if key not in self.genomes:  # not asked by us (defensive): remember it all the same
            self.sampler.mark(individual)
            self.genomes[key] = list(self.space.canonical(individual))
        self.errors[key] = result.error if result.ok else None
        self.told.append(key)

    def stats(self) -> dict:
        return {"walks_started": self.walks_started, "local_optima": len(self.local_optima)}

    # --- walks -------------------------------------------------------------------------------------

    def _open(self, key: str) -> None:
        self.walks_started += 1
        walk = Walk(key)
        self._set_neighbours(walk)
        self.walks.append(walk)

    def _set_neighbours(self, walk: Walk) -> None:
        walk.neighbours = []
        for genome in self.space.neighbours(self.genomes[walk.current]):
            key = self.space.key(genome)
            self.genomes.setdefault(key, list(genome))
            walk.neighbours.append(key)

    def _advance(self, walk: Walk) -> None:
        """Take every step whose neighbourhood is fully evaluated; end the walk at a local optimum."""
        while all(k in self.errors for k in walk.neighbours):
            self.explored.add(walk.current)
            ranked = self._best(walk.neighbours)
            if not ranked or self.errors[ranked[0]] >= self.errors[walk.current]:
                self.local_optima.append(walk.current)
                self.walks.remove(walk)
                return
            walk.current = ranked[0]
            if walk.current in self.explored or any(w.current == walk.current for w in self.walks
                                                    if w is not walk):
                self.walks.remove(walk)  # joined an earlier walk: it would retrace that walk
                return
            self._set_neighbours(walk)

    def _next_start(self) -> str | None:
        """The next unexplored start; after the starts, the best unexplored evaluated network."""
        busy = {w.current for w in self.walks}
        while self.next_start < len(self.starts):
            key = self.starts[self.next_start]
            self.next_start += 1
            if key not in self.explored and key not in busy:
                return key
        fresh = [k for k in self._best(self.told) if k not in self.explored and k not in busy]
        return fresh[0] if fresh else None

    # --- helpers -----------------------------------------------------------------------------------

    def _best(self, keys) -> list[str]:
        """The told, successful ones among `keys`, best first (ties: the order given)."""
        ok = [k for k in keys if self.errors.get(k) is not None]
        return sorted(ok, key=lambda k: self.errors[k])  # stable sort keeps the given order on ties

    def _ask_random(self):
        return self._ask(self.sampler.draw(self.rng))

    def _ask(self, genome):
        key = self.sampler.mark(genome)
        self.genomes.setdefault(key, list(genome))
        return self.space.canonical(genome)
