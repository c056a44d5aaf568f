"""Random search (thesis §3.5 baseline): networks drawn uniformly from the canonical space, each once."""
from __future__ import annotations

from era_deap.search.strategy import Strategy

from .sampling import UniqueSampler


class RandomSearch(Strategy):
    """Uniform sampling of the unique networks without replacement; results are not used."""

    kind = "random_search"

    def __init__(self, space, config, seed: int):
        super().__init__(space, config, seed)
        self.sampler = UniqueSampler(space)

    def ask(self):
        return self.sampler.draw(self.rng)

    def tell(self, individual, result) -> None:
        pass
