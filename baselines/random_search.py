"""Random search (thesis §3.5 baseline): networks drawn at random (`strategy.sampling`), each once."""
from __future__ import annotations

from dataclasses import dataclass

from era_deap.search.strategy import Strategy
from era_deap.settings import StrategyConfig

from .sampling import UniqueSampler


@dataclass
class RandomSearchConfig(StrategyConfig):
    pass


class RandomSearch(Strategy):
    """Draws without replacement (uniform configurations or uniform networks); results are not used."""

    kind = "random_search"
    Config = RandomSearchConfig

    def __init__(self, space, config, seed: int):
        super().__init__(space, config, seed)
        self.sampler = UniqueSampler(space, config.sampling)

    def ask(self):
        return self.sampler.draw(self.rng)

    def tell(self, individual, result) -> None:
        pass
