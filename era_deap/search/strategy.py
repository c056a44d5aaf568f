"""The one interface every search strategy implements (docs/design.md §5, §7), and the factory by `kind`
(the registry of kinds is `STRATEGIES` in era_deap/settings.py, where configs are validated).

    strategy = make_strategy(space, config.strategy, seed)
    individual = strategy.ask()          # a canonical DEAP individual of `space`
    strategy.tell(individual, result)    # result: EvalResult; individual.fitness is already set

The driver owns budget, parallelism, cache, journal and logbook. Several individuals may be in
flight (asked, not yet told), and tells may come in any order. A strategy must be deterministic given
its seed and the sequence of ask/tell calls: resume replays that sequence. So: draw randomness only
from `self.rng` (or inside `with self.seeded():` for DEAP operators that use the global `random`),
never iterate over a set or use `hash()`.
"""
from __future__ import annotations

import contextlib
import random
from typing import TYPE_CHECKING

from ..settings import StrategyConfig, strategy_class

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from ..space.genome import Individual
    from ..space.space import SearchSpace
    from ..training.result import EvalResult


class SearchExhausted(Exception):
    """The strategy has nothing left to propose (e.g. every network of a small space was evaluated)."""


class Strategy:
    kind = "strategy"
    Config = StrategyConfig     # each strategy's own settings dataclass, in its module

    def __init__(self, space: SearchSpace, config: StrategyConfig, seed: int):
        self.space = space
        self.config = config
        self.seed = seed
        self.rng = random.Random(seed)

    def ask(self) -> Individual:
        raise NotImplementedError

    def tell(self, individual: Individual, result: EvalResult) -> None:
        raise NotImplementedError

    @classmethod
    def preflight(cls, space: SearchSpace, config: StrategyConfig) -> None:
        """Check what can be checked before a search writes or trains anything (ConfigError)."""

    def adopt(self, asked: Individual, genome: Sequence[str | int]) -> Individual:
        """Resume with changed operators: take the journal's `genome` in place of the one just asked.
        Strategies without operators never need to, and refuse."""
        raise NotImplementedError

    def summary(self) -> dict:
        """Extra entries for summary.json (e.g. what the operators did)."""
        return {}

    def stats(self) -> dict:
        """Extra numbers for the logbook record of the latest tell (e.g. seconds per suggestion)."""
        return {}

    @contextlib.contextmanager
    def seeded(self) -> Iterator[None]:
        """Run DEAP operators (which use the global `random`) on this strategy's own random stream,
        leaving the global stream as it was."""
        outer = random.getstate()
        random.setstate(self.rng.getstate())
        try:
            yield
        finally:
            self.rng.setstate(random.getstate())
            random.setstate(outer)


def make_strategy(space: SearchSpace, config: StrategyConfig, seed: int) -> Strategy:
    return strategy_class(config.kind)(space, config, seed)
