"""Steady-state evolution on DEAP (thesis Algorithm 2, §3.5), as ask/tell strategies.

    evolution               draw `tournament_size` (2); mutate a copy of the best; remove the worst drawn
    regularized_evolution   the same, but remove the oldest (Real et al. 2019)
    crossover_evolution     draw 3; uniform crossover of the best two, then mutate; remove the oldest

The population starts with `population_size` random genomes. Asynchronous and steady state: any
number of children may be in flight, tells arrive in any order, no generation barrier. A child whose
network was already asked is mutated again (up to `max_mutation_retries`), as the thesis author's
HyperMapper implementation did. Failed evaluations never enter the population, so they are never
parents. Operators come from the config (`strategy.mutate`, `strategy.mate`) and are registered on a
DEAP `Toolbox`; an operator with a `space` parameter receives the run's SearchSpace.
"""
from __future__ import annotations

import inspect

from deap import base

from ..config import resolve_callable
from ..operators import sel_oldest, sel_tournament_loser
from .strategy import Strategy


def resolve_operator(spec, space):
    """Import "package.module:function"; bind `space` when the function takes one."""
    function = resolve_callable(spec.function, f"strategy operator {spec.function!r}")
    kwargs = dict(spec.kwargs)
    if "space" in inspect.signature(function).parameters:
        kwargs["space"] = space
    return function, kwargs


class Evolution(Strategy):
    kind = "evolution"
    crossover = False
    removes_oldest = False

    def __init__(self, space, config, seed: int):
        super().__init__(space, config, seed)
        self.population = []        # successful individuals, each with `.birth`
        self.asked_keys = {}        # canonical key -> True, for every genome asked (insertion ordered)
        self.in_flight = {}         # key -> {"random": bool, "loser": individual or None}
        self.births = 0
        self.toolbox = base.Toolbox()
        mutate, kwargs = resolve_operator(config.mutate, space)
        self.toolbox.register("mutate", mutate, **kwargs)
        mate, kwargs = resolve_operator(config.mate, space)
        self.toolbox.register("mate", mate, **kwargs)
        self.toolbox.register("select", sel_tournament_loser, tournsize=config.tournament_size)

    # --- ask ----------------------------------------------------------------------------------------

    def ask(self):
        random_in_flight = sum(1 for v in self.in_flight.values() if v["random"])
        if (len(self.population) + random_in_flight < self.config.population_size
                or len(self.population) < self.config.tournament_size):
            child, loser, is_random = self._random_genome(), None, True
        else:
            child, loser = self._offspring()
            is_random = False
        key = self._key(child)
        self.asked_keys[key] = True
        self.in_flight.setdefault(key, {"random": is_random, "loser": loser})
        return child

    def _random_genome(self):
        for _ in range(1000):
            genome = self.space.draw(self.rng, self.config.sampling)
            if self.space.key(genome) not in self.asked_keys:
                return genome
        return genome  # nearly exhausted space: the driver answers from its cache

    def _offspring(self):
        """Tournament, variation and re-mutation of already-asked children, on the strategy's stream."""
        with self.seeded():
            winners, loser = self.toolbox.select(self.population)
            for _ in range(self.config.max_mutation_retries + 1):
                child = self._vary(winners)
                if not self.space.is_valid(child) or self.space.key(child) not in self.asked_keys:
                    break
        return child, loser

    def _vary(self, winners):
        child = self.toolbox.clone(winners[0])
        if self.crossover:
            child, _ = self.toolbox.mate(child, self.toolbox.clone(winners[1]))
        (child,) = self.toolbox.mutate(child)
        del child.fitness.values
        return self.space.canonical(child) if self.space.is_valid(child) else child

    def _key(self, genome):
        # A user operator may produce an invalid genome: the driver records it as `invalid`.
        return self.space.key(genome) if self.space.is_valid(genome) else "invalid:" + repr(list(genome))

    # --- tell ---------------------------------------------------------------------------------------

    def tell(self, individual, result) -> None:
        info = self.in_flight.pop(self._key(individual), {"random": False, "loser": None})
        if not result.ok:
            return  # failures are never parents
        individual.birth = self.births
        self.births += 1
        self.population.append(individual)
        if len(self.population) > self.config.population_size:
            self._remove(info["loser"])

    def _remove(self, loser):
        if self.removes_oldest:
            victim = sel_oldest(self.population)
        elif loser is not None and any(p is loser for p in self.population):
            victim = loser
        else:
            # The tournament's loser already left (another child replaced it): a fresh tournament decides.
            with self.seeded():
                _, victim = self.toolbox.select(self.population)
        self.population = [p for p in self.population if p is not victim]

    def stats(self) -> dict:
        errors = [p.fitness.values[0] for p in self.population]
        return {"population": len(errors), "population_best": min(errors) if errors else None}


class RegularizedEvolution(Evolution):
    kind = "regularized_evolution"
    removes_oldest = True


class CrossoverEvolution(Evolution):
    kind = "crossover_evolution"
    crossover = True
    removes_oldest = True
