"""Multi-fidelity search on epochs: asynchronous successive halving (ASHA, Li et al. 2020), Hyperband
brackets on top of it, and new networks proposed by regularized evolution instead of at random.

Rungs are epochs of the search schedule: r_k = min_epochs * eta**k, capped at `max_epochs`, which must
be the schedule's full length (the driver checks it). A network asked at rung r is trained for the
schedule's first r epochs (its learning-rate drops stay where the full schedule has them: on a
benchmark table, "epoch r of the full schedule", its curve there).

ask(), asynchronous (no rung barrier; every free worker gets an ask at once):
1. promote: from the highest rung down, the first network (by error at that rung) in the top 1/eta
   of its rung's results that was not promoted yet is asked again at the next rung. A promotion
   trains from scratch for the longer r (it does not continue from a checkpoint): the same
   computation as a direct r-epoch training, so runs stay reproducible and resumable from the journal
   alone, at the price of retraining the lower rungs' epochs (docs/multifidelity.md);
2. else start a new network at the bottom rung of the next bracket (`asha`: one bracket; `hyperband`:
   brackets b = 0..B-1 start at rung b, in Hyperband's proportions: per round, bracket b starts
   ceil(B / (B - b) * eta**(B - 1 - b)) networks, so aggressive brackets start many cheap ones and the
   last few full trainings), drawn at random (`propose: random`) or, once
   the highest rung with results has `tournament_size` of them, as the mutated copy of the winner of a
   tournament among the `population_size` most recent results there (`propose: evolution`:
   regularized evolution with promotion; cheap per ask, unlike a GP over thousands of low-fidelity
   results, and the thesis's strongest family).
Each bracket promotes within its own results. The top rung's errors are full trainings: the run's
best network is the best among them (the driver keeps lower rungs out of its best-so-far).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Optional

from ..config import bounded
from ..operators import mut_uniform_reset
from ..settings import StrategyConfig
from .strategy import SearchExhausted, Strategy

if TYPE_CHECKING:
    from ..config import _KeyWhere
    from ..space.genome import Individual
    from ..space.space import SearchSpace
    from ..training.result import EvalResult

MUTATION_TRIES = 100


def rungs(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """[min, min*eta, ...] below max, then max."""
    out, r = [], min_epochs
    while r < max_epochs:
        out.append(r)
        r *= eta
    return out + [max_epochs]


@dataclass
class MultiFidelityConfig(StrategyConfig):
    """asha, hyperband: rungs of min_epochs * eta**k epochs up to the full schedule."""
    min_epochs: int = bounded(1, min=1)
    max_epochs: Optional[int] = bounded(None, min=1)    # None: the search schedule's epochs (filled in)
    eta: int = bounded(3, min=2)                        # keep the top 1/eta of a rung
    brackets: Optional[int] = bounded(None, min=1)      # None: 1 (asha), every rung (hyperband)
    propose: Literal["random", "evolution"] = "random"  # new networks: drawn, or regularized evolution's
    population_size: int = bounded(20, min=2)           # evolution: the most recent results of the top rung
    tournament_size: int = bounded(2, min=2)

    def check(self, at: _KeyWhere) -> None:
        if self.max_epochs is not None and self.min_epochs > self.max_epochs:
            at.fail("min_epochs", f"at most max_epochs ({self.max_epochs})", self.min_epochs)
        if self.propose == "evolution" and self.tournament_size > self.population_size:
            at.fail("tournament_size", f"at most population_size ({self.population_size}) with propose: evolution",
                    self.tournament_size)


class SuccessiveHalving(Strategy):
    kind = "asha"
    Config = MultiFidelityConfig

    def __init__(self, space: SearchSpace, config: MultiFidelityConfig, seed: int):
        super().__init__(space, config, seed)
        self.rungs = rungs(config.min_epochs, config.max_epochs, config.eta)
        count = config.brackets if config.brackets else (len(self.rungs) if self.kind == "hyperband" else 1)
        self.brackets = min(count, len(self.rungs))
        # per bracket, per rung: key -> (error, genome), in tell order; and the keys promoted from it
        self.results = [[{} for _ in self.rungs] for _ in range(self.brackets)]
        self.promoted = [[set() for _ in self.rungs] for _ in range(self.brackets)]
        self.in_flight = {}          # (key, rung) -> bracket
        self.asked = set()           # keys of every network started (at any rung)
        b_max = self.brackets - 1
        self.round = [b for b in range(self.brackets)
                      for _ in range(math.ceil((b_max + 1) / (b_max - b + 1) * config.eta ** (b_max - b)))]
        self.started = 0             # new networks so far: the next one's place in the round
        self.last = {}

    # --- ask ------------------------------------------------------------------------------------------

    def ask(self) -> Individual:
        for bracket in self._bracket_order():
            for rung in range(len(self.rungs) - 2, bracket - 1, -1):
                key = self._promotable(bracket, rung)
                if key is not None:
                    self.promoted[bracket][rung].add(key)
                    _, genome = self.results[bracket][rung][key]
                    return self._at(genome, rung + 1, bracket, "promotion")
        bracket = self.round[self.started % len(self.round)]
        self.started += 1
        return self._at(self._new_network(), bracket, bracket, "new")

    def _bracket_order(self) -> list[int]:
        return list(range(self.brackets))

    def _promotable(self, bracket: int, rung: int):
        results = self.results[bracket][rung]
        top = len(results) // self.config.eta
        if not top:
            return None
        ranked = sorted(results, key=lambda k: (results[k][0], k))[:top]
        return next((k for k in ranked if k not in self.promoted[bracket][rung]), None)

    def _at(self, genome, rung: int, bracket: int, how: str):
        individual = self.space.canonical(genome)
        epochs = self.rungs[rung]
        individual.epochs = None if epochs == self.config.max_epochs else epochs
        self.in_flight[(self.space.key(individual), rung)] = bracket
        self.last = {"rung": rung, "bracket": bracket, "how": how}
        return individual

    def _new_network(self):
        if len(self.asked) >= self.space.n_unique:
            raise SearchExhausted(f"all {self.space.n_unique} networks of {self.space.source} were started")
        parents = self._parents() if self.config.propose == "evolution" else []
        for attempt in range(1000):
            # After MUTATION_TRIES children that were all started before, draw instead (a small space's
            # neighbourhoods of the best networks run out).
            if parents and attempt < MUTATION_TRIES:
                with self.seeded():
                    (genome,) = mut_uniform_reset(self.space.individual(self._winner(parents)), self.space)
            else:
                genome = self.space.draw(self.rng, self.config.sampling)
            key = self.space.key(genome)
            if key not in self.asked:
                self.asked.add(key)
                return genome
        raise SearchExhausted(f"no new network found in 1000 draws from {self.space.source}")

    def _parents(self) -> list:
        """The `population_size` most recent results of the highest rung that has a tournament's worth."""
        for rung in range(len(self.rungs) - 1, -1, -1):
            pooled = [v for b in range(self.brackets) for v in self.results[b][rung].values()]
            if len(pooled) >= self.config.tournament_size:
                return pooled[-self.config.population_size:]
        return []

    def _winner(self, parents) -> list:
        drawn = self.rng.sample(parents, self.config.tournament_size)
        return list(min(drawn, key=lambda v: v[0])[1])

    # --- tell -----------------------------------------------------------------------------------------

    def tell(self, individual: Individual, result: EvalResult) -> None:
        key = self.space.key(individual)
        epochs = getattr(individual, "epochs", None) or self.config.max_epochs
        rung = self.rungs.index(epochs)
        bracket = self.in_flight.pop((key, rung), 0)
        self.last = {**self.last, "told_rung": rung}
        if result.ok:
            self.results[bracket][rung][key] = (result.error, list(individual))

    def stats(self) -> dict:
        return {"rung": self.last.get("told_rung")}


class Hyperband(SuccessiveHalving):
    kind = "hyperband"
