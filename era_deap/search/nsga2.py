"""NSGA-II (Deb et al. 2002) on DEAP, for several objectives (error and costs: search/fitness.py).

Parents: binary tournaments on (non-domination rank, crowding distance), as NSGA-II's. Children: the
evolutions' variation (variation.py: uniform crossover and the ERA mutation by default, any DEAP
operators from the config), re-mutated when already evaluated. Survival: DEAP's `tools.selNSGA2` keeps
`population_size` of the population and the children told since the last survival.

Asynchronous and batched, not generational: children are asked from the current population as soon
as a worker is free (no worker waits for a generation), and survival runs each time `offspring_size`
children have been told (default: population_size, NSGA-II's (mu + lambda) with lambda = mu). A
steady-state NSGA-II is `offspring_size: 1`: a non-dominated sort per evaluation, cheap at these
population sizes, but a child then competes only with the population of its time.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

from deap import tools

from ..config import bounded
from .evolution import Evolution, EvolutionConfig

if TYPE_CHECKING:
    from ..space.genome import Individual
    from ..space.space import SearchSpace
    from ..training.result import EvalResult


@dataclass
class NSGA2Config(EvolutionConfig):
    """nsga2: parents by binary tournaments on (rank, crowding), survival by DEAP's selNSGA2."""
    # Children told between survivals; None: population_size.
    offspring_size: Optional[int] = bounded(None, min=1)


class NSGA2(Evolution):
    kind = "nsga2"
    Config = NSGA2Config
    crossover = True

    def __init__(self, space: SearchSpace, config: NSGA2Config, seed: int):
        super().__init__(space, config, seed)
        self.offspring = []      # told children waiting for the next survival

    def _parents(self):
        # With several evaluations in flight (workers, ask_batch), a child can be asked before the random
        # population is complete, or after a late random member joined it: rank what there is first.
        if any(not hasattr(member, "rank") for member in self.population):
            self._rank(self.population)
        return [self._tournament(), self._tournament()], None

    def _tournament(self):
        """The better of two random members: lower rank, then larger crowding distance, then the first.
        (Runs inside the strategy's seeded stream, as DEAP operators do.)"""
        a, b = random.sample(self.population, 2)
        if a.rank != b.rank:
            return a if a.rank < b.rank else b
        return b if b.fitness.crowding_dist > a.fitness.crowding_dist else a

    def tell(self, individual: Individual, result: EvalResult) -> None:
        info = self.in_flight.pop(self._key(individual), {"random": False, "loser": None, "child": None})
        self._count(info["child"])
        if not result.ok:
            return   # failures are never parents and never survive
        individual.birth = self.births
        self.births += 1
        if info["random"] or len(self.population) < self.config.population_size:
            self.population.append(individual)
            if len(self.population) == self.config.population_size:
                self._rank(self.population)
            return
        self.offspring.append(individual)
        if len(self.offspring) >= (self.config.offspring_size or self.config.population_size):
            self.population = tools.selNSGA2(self.population + self.offspring, self.config.population_size)
            self.offspring = []
            self._rank(self.population)

    @staticmethod
    def _rank(population) -> None:
        """Non-domination rank (0: the front) and crowding distance of every member, for the tournaments."""
        for rank, front in enumerate(tools.sortNondominated(population, len(population))):
            tools.emo.assignCrowdingDist(front)
            for individual in front:
                individual.rank = rank
