"""Random draws of canonical genomes that a strategy has not proposed yet, for spaces of any size:
uniform configurations canonicalised (`sampling: configurations`) or uniform networks (`networks`).

All three baselines propose each network at most once. In the real space (10.6 M networks) rejection
sampling almost never rejects; in the tiny spaces of tests and the quick profile most of the space may
already be used, so after a few rejections the sampler lists what is left and draws from that (then
uniformly over the networks left), and it raises `SearchExhausted` when nothing is left instead of
looping forever.
"""
from __future__ import annotations

from era_deap.search.strategy import SearchExhausted, Strategy

# Rejections in a row before listing the unused genomes instead (a 10.6 M-network space never gets
# there; a space of a few hundred networks does once most of it is used).
MAX_REJECTIONS = 64


class UniqueSampler:
    """Remembers which canonical genomes are used (by `space.key`) and draws unused ones uniformly."""

    def __init__(self, space, sampling: str = "configurations"):
        self.space, self.sampling = space, sampling
        self._used: set[str] = set()   # membership only: never iterated (hash order would leak in)
        self._all: list | None = None  # every canonical genome, listed once, when first needed

    def used(self, key: str) -> bool:
        return key in self._used

    def __len__(self) -> int:
        return len(self._used)

    def mark(self, genome) -> str:
        """Record `genome` as used; returns its key."""
        key = self.space.key(genome)
        self._used.add(key)
        return key

    @property
    def exhausted(self) -> bool:
        return len(self._used) >= self.space.n_unique

    def draw(self, rng):
        """One unused canonical genome, uniform over the unused ones, marked as used.
        Raises SearchExhausted when every network of the space is used."""
        (genome,) = self.draw_many(rng, 1) or (None,)
        if genome is None:
            raise SearchExhausted(f"all {self.space.n_unique} networks of {self.space.source} were proposed")
        self.mark(genome)
        return genome

    def draw_many(self, rng, n: int, exclude: set | None = None) -> list:
        """Up to `n` distinct unused canonical genomes (not marked), also avoiding the keys in
        `exclude`; fewer only when fewer are left."""
        exclude = exclude if exclude is not None else set()
        left = self.space.n_unique - len(self._used)
        if left <= n:  # small space: everything that is left (in enumeration order)
            return [g for g in self._remaining() if self.space.key(g) not in exclude]
        chosen, keys, rejections = [], set(), 0
        while len(chosen) < n:
            genome = self.space.draw(rng, self.sampling)
            key = self.space.key(genome)
            if key in self._used or key in keys or key in exclude:
                rejections += 1
                if rejections > MAX_REJECTIONS + n:
                    return chosen + self._fill(rng, n - len(chosen), keys | exclude)
                continue
            chosen.append(genome)
            keys.add(key)
        return chosen

    def _fill(self, rng, n: int, avoid: set) -> list:
        options = [g for g in self._remaining() if self.space.key(g) not in avoid]
        return rng.sample(options, min(n, len(options)))

    def _remaining(self) -> list:
        """Every unused canonical genome in a fixed order (product order of the gene values)."""
        if self._all is None:
            self._all = [list(g) for g in self.space.unique_genomes()]
        return [self.space.canonical(g) for g in self._all if self.space.key(g) not in self._used]


class SamplingStrategy(Strategy):
    """A baseline that draws each network at most once (`strategy.sampling`): `self.sampler`."""

    def __init__(self, space, config, seed: int):
        super().__init__(space, config, seed)
        self.sampler = UniqueSampler(space, config.sampling)
