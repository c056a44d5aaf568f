"""Steady-state evolution on DEAP (thesis Algorithm 2, §3.5), as ask/tell strategies.

    evolution               draw `tournament_size` (2); mutate a copy of the best; remove the worst drawn
    regularized_evolution   the same, but remove the oldest (Real et al. 2019)
    crossover_evolution     draw 3; uniform crossover of the best two, then mutate; remove the oldest

The population starts with `population_size` random genomes (`strategy.sampling`). Asynchronous and
steady state: any number of children may be in flight, tells arrive in any order, no generation
barrier. A child whose network was already asked is mutated again (up to `max_mutation_retries`), as
the thesis author's HyperMapper implementation did; when every retry lands on an asked network (late
in a run that covers most of a small space), an unasked network is drawn instead.
Failed evaluations never enter the population, so they are never parents. Operators come from the
config and run on a DEAP `Toolbox` (variation.py):
`strategy.mutate`, `strategy.mate`, and optionally `strategy.select`, a DEAP selection
`select(population, k)` (e.g. deap.tools:selTournament) that picks the parents instead of the
thesis's tournament; removal (the tournament's loser, or the oldest) stays its own step.

Every child is recorded for the logbook: how many times it was re-mutated, whether the first variation
gave back its parent unchanged (a no-op), whether it left the space (invalid, never trained).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Optional, Union

from ..config import bounded
from ..operators import sel_oldest, sel_tournament_loser
from ..settings import StrategyConfig
from .strategy import Strategy
from .variation import OperatorSpec, Variation, default_operator

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..config import _KeyWhere
    from ..space.genome import Individual
    from ..space.space import SearchSpace
    from ..training.result import EvalResult


@dataclass
class EvolutionConfig(StrategyConfig):
    """evolution, regularized_evolution, crossover_evolution (thesis Algorithm 2 and §3.5)."""
    population_size: int = bounded(50, min=2)
    tournament_size: Optional[int] = bounded(None, min=2)   # None: 2, or 3 for crossover_evolution
    max_mutation_retries: int = bounded(100, min=0)        # re-mutate a child already evaluated
    mutate: Union[str, OperatorSpec] = default_operator("era_deap.operators:mut_uniform_reset", n_genes=1)
    mate: Union[str, OperatorSpec] = default_operator("deap.tools:cxUniform", indpb=0.5)
    select: Union[str, OperatorSpec, None] = None   # a DEAP selection (population, k): picks the parents;
                                                    # None: the thesis's tournament of tournament_size
    encoding: Literal["values", "positions"] = "values"   # what operators see: gene values, or positions
                                                          # (DEAP's integer operators; variation.py)

    def __post_init__(self):
        # Complete when constructed, from a file (from_mapping) or in Python: defaults by kind, and an
        # operator given by name alone becomes an OperatorSpec without arguments.
        if self.tournament_size is None:
            self.tournament_size = 3 if self.kind == "crossover_evolution" else 2
        for name in ("mutate", "mate", "select"):
            if isinstance(getattr(self, name), str):
                setattr(self, name, OperatorSpec(getattr(self, name)))

    def check(self, at: _KeyWhere) -> None:
        if self.tournament_size > self.population_size:
            at.fail("tournament_size", f"at most population_size ({self.population_size})",
                    self.tournament_size)
        for name in ("mutate", "mate", "select"):
            if getattr(self, name) is None:
                continue
            function = getattr(self, name).function
            if ":" not in function:   # (a mapping's function was checked by OperatorSpec.check)
                at.fail(name, "'package.module:function' or {function: ..., kwargs: {...}}", function)


ENUMERABLE = 200_000   # spaces small enough to list the networks not asked yet, when drawing fails


class Evolution(Strategy):
    kind = "evolution"
    Config = EvolutionConfig
    crossover = False
    removes_oldest = False

    def __init__(self, space: SearchSpace, config: EvolutionConfig, seed: int):
        super().__init__(space, config, seed)
        self.population = []        # successful individuals, each with `.birth`
        self.asked_keys = {}        # canonical key -> times asked, for every genome asked (insertion ordered)
        self.in_flight = {}         # key -> {"random", "loser", "child"}: how it was made
        self.births = 0
        self.variation = Variation(space, config)
        self.toolbox = self.variation.toolbox
        self.last_ask = None        # (key, whether that ask opened its in_flight entry), for `adopt`
        self.last_child = {}        # the latest told child's diagnostics, for the logbook
        self.counts = {"children": 0, "remutated": 0, "noop": 0, "invalid": 0, "fallback": 0}

    @classmethod
    def preflight(cls, space: SearchSpace, config: EvolutionConfig) -> None:
        Variation(space, config).check(config.tournament_size)

    # --- ask ----------------------------------------------------------------------------------------

    def ask(self) -> Individual:
        random_in_flight = sum(1 for v in self.in_flight.values() if v["random"])
        if (len(self.population) + random_in_flight < self.config.population_size
                or len(self.population) < self.config.tournament_size):
            child, info = self._random_genome(), {"random": True, "loser": None, "child": None}
        else:
            child, info = self._offspring()
        self._remember(child, info)
        return child

    def _remember(self, child, info) -> None:
        key = self._key(child)
        self.asked_keys[key] = self.asked_keys.get(key, 0) + 1
        opened = key not in self.in_flight
        self.in_flight.setdefault(key, info)
        self.last_ask = (key, opened)

    def adopt(self, asked: Individual, genome: Sequence[str | int]) -> Individual:
        """Resuming with changed operators: the journal's genome replaces the one just asked, with the
        same role (random or child, and its tournament's loser). Returns the individual to use."""
        key, opened = self.last_ask
        info = self.in_flight.pop(key) if opened else dict(self.in_flight[key])
        self.asked_keys[key] -= 1
        if not self.asked_keys[key]:
            del self.asked_keys[key]
        adopted = self.space.canonical(genome) if self.space.is_valid(genome) else self.toolbox.clone(asked)
        if not self.space.is_valid(genome):
            adopted[:] = genome
        self._remember(adopted, info)
        return adopted

    def _random_genome(self):
        for _ in range(1000):
            genome = self.space.draw(self.rng, self.config.sampling)
            if self.space.key(genome) not in self.asked_keys:
                return genome
        return genome  # nearly exhausted space: the driver answers from its cache

    def _offspring(self):
        """Parents, variation and re-mutation of already-asked children, on the strategy's stream."""
        with self.seeded():
            parents, loser = self._parents()
            child_info = {"remutations": 0, "noop": False, "invalid": False}
            for attempt in range(self.config.max_mutation_retries + 1):
                child = self._vary(parents)
                valid = self.space.is_valid(child)
                if attempt == 0:
                    child_info["noop"] = valid and self.space.key(child) == self.space.key(parents[0])
                if not valid or self.space.key(child) not in self.asked_keys:
                    break
                child_info["remutations"] += 1
            else:
                # Every retry landed on a network asked before (late in a run on a small space): an
                # unasked network instead, as HyperMapper does, rather than spinning on cache hits
                # (max_mutation_retries 0 asks for neither).
                fresh = self._unasked_genome() if self.config.max_mutation_retries else None
                if fresh is not None:
                    child, child_info["fallback"] = fresh, True
            child_info["invalid"] = not valid
        return child, {"random": False, "loser": loser, "child": child_info}

    def _unasked_genome(self):
        """A random network not asked yet (`strategy.sampling`), or None when every one has been."""
        for _ in range(1000):
            genome = self.space.draw(self.rng, self.config.sampling)
            if self.space.key(genome) not in self.asked_keys:
                return genome
        if self.space.n_unique > ENUMERABLE:
            return None
        left = [g for g in self.space.unique_genomes() if self.space.key(g) not in self.asked_keys]
        return self.rng.choice(left) if left else None

    def _parents(self):
        """(parents best first, the tournament's loser or None): the thesis's tournament, or the
        configured DEAP selection (whose picks are parents only; removal decides on its own)."""
        if "select" in self.variation.names:
            return self.variation.select(self.population, 2 if self.crossover else 1), None
        return sel_tournament_loser(self.population, self.config.tournament_size)

    def _vary(self, parents):
        child = self.variation.encode(parents[0])
        if self.crossover:
            child, _ = self.variation.mate(child, self.variation.encode(parents[-1]))
        child = self.variation.decode(self.variation.mutate(child))
        del child.fitness.values
        return self.space.canonical(child) if self.space.is_valid(child) else child

    def _key(self, genome):
        # A user operator may produce an invalid genome: the driver records it as `invalid`.
        return self.space.key(genome) if self.space.is_valid(genome) else "invalid:" + repr(list(genome))

    # --- tell ---------------------------------------------------------------------------------------

    def tell(self, individual: Individual, result: EvalResult) -> None:
        info = self.in_flight.pop(self._key(individual), {"random": False, "loser": None, "child": None})
        self._count(info["child"])
        if not result.ok:
            return  # failures are never parents
        individual.birth = self.births
        self.births += 1
        self.population.append(individual)
        if len(self.population) > self.config.population_size:
            self._remove(info["loser"])

    def _count(self, child) -> None:
        self.last_child = {} if child is None else {
            "remutations": child["remutations"], "noop": child["noop"], "invalid_child": child["invalid"]}
        if child is not None:
            self.counts["children"] += 1
            self.counts["remutated"] += child["remutations"] > 0
            self.counts["noop"] += child["noop"]
            self.counts["invalid"] += child["invalid"]
            self.counts["fallback"] += child.get("fallback", False)

    def _remove(self, loser):
        if self.removes_oldest:
            victim = sel_oldest(self.population)
        elif loser is not None and any(p is loser for p in self.population):
            victim = loser
        else:
            # No loser (a DEAP selection picked the parents), or it already left: a fresh tournament decides.
            with self.seeded():
                _, victim = sel_tournament_loser(self.population, self.config.tournament_size)
        self.population = [p for p in self.population if p is not victim]

    def stats(self) -> dict:
        # population_best, population_mean and the config's own statistics come from the recorder's
        # DEAP Statistics, compiled over `self.population`.
        return {"population": len(self.population), **self.last_child}

    def summary(self) -> dict:
        """What the operators did over the run: children made, re-mutated, no-ops, invalid."""
        return {"operators": dict(self.counts)}


class RegularizedEvolution(Evolution):
    kind = "regularized_evolution"
    removes_oldest = True


class CrossoverEvolution(Evolution):
    kind = "crossover_evolution"
    crossover = True
    removes_oldest = True
