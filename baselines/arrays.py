"""The search space as integer arrays, for drawing, de-duplicating and encoding thousands of candidate
networks at once (Bayesian optimisation scores ~2,000 per suggestion; one at a time through
`SearchSpace` that is a large share of the 1 s budget).

A network is a row of gene *positions* (index into each gene's values). Rows are canonical, the same
representative `SearchSpace.canonical` picks, and each has an integer `code` (mixed radix), a stable
name like `space.key` for de-duplication with numpy. `encode` equals `SearchSpace.encode` row by row.
"""
from __future__ import annotations

import numpy as np

FILTERS, GROUP = 5, 7  # gene indices (GENES order) of the only pair that collapses


class SpaceArrays:
    def __init__(self, space):
        self.space = space
        self.sizes = np.array([len(g.values) for g in space.genes], dtype=np.int64)
        self.radix = np.concatenate([np.cumprod(self.sizes[::-1])[::-1][1:], [1]]).astype(np.int64)
        self.scale = np.where(self.sizes > 1, self.sizes - 1, 1).astype(np.float64)
        # For each (filters, group size) position pair: the canonical group position and how many
        # group sizes share its effect (the duplicate class, for uniform sampling of unique networks).
        n_f, n_g = len(space["filters"].values), len(space["group_size"].values)
        self.canonical_group = np.zeros((n_f, n_g), dtype=np.int64)
        self.class_size = np.zeros((n_f, n_g), dtype=np.int64)
        probe = [g.values[0] for g in space.genes]
        for f in range(n_f):
            for g in range(n_g):
                probe[FILTERS], probe[GROUP] = space["filters"].values[f], space["group_size"].values[g]
                canonical = space.canonical(probe)
                self.canonical_group[f, g] = space["group_size"].position(canonical[GROUP])
        for f in range(n_f):
            for g in range(n_g):
                self.class_size[f, g] = np.sum(self.canonical_group[f] == self.canonical_group[f, g])

    def positions(self, genome) -> np.ndarray:
        """Positions of the canonical form of one genome."""
        canonical = self.space.canonical(genome)
        return np.array([g.position(v) for g, v in zip(self.space.genes, canonical)], dtype=np.int64)

    def genome(self, row) -> list:
        """The canonical genome (a DEAP individual) of one row."""
        return self.space.canonical([g.values[int(p)] for g, p in zip(self.space.genes, row)])

    def codes(self, rows: np.ndarray) -> np.ndarray:
        return rows @ self.radix

    def encode(self, rows: np.ndarray) -> np.ndarray:
        return rows / self.scale

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """About `n` canonical rows drawn uniformly over the unique networks (like `sample_unique`),
        with repeats possible: uniform configurations, each kept with probability 1 / class size."""
        share = self.class_size.shape[0] * self.class_size.shape[1] / np.sum(1.0 / self.class_size)
        draws = int(np.ceil(n * share)) + 8
        rows = rng.integers(0, self.sizes, size=(draws, len(self.sizes)))
        keep = rng.random(draws) * self.class_size[rows[:, FILTERS], rows[:, GROUP]] < 1.0
        rows = rows[keep][:n]
        rows[:, GROUP] = self.canonical_group[rows[:, FILTERS], rows[:, GROUP]]
        return rows

