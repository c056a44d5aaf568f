"""Random search (thesis §3.5 baseline): networks drawn at random (`strategy.sampling`), each once."""
from __future__ import annotations

from dataclasses import dataclass

from era_deap.settings import StrategyConfig

from .sampling import SamplingStrategy


@dataclass
class RandomSearchConfig(StrategyConfig):
    pass


class RandomSearch(SamplingStrategy):
    """Draws without replacement (uniform configurations or uniform networks); results are not used."""

    kind = "random_search"
    Config = RandomSearchConfig

    def ask(self):
        return self.sampler.draw(self.rng)

    def tell(self, individual, result) -> None:
        pass
