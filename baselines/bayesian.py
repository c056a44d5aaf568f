"""Bayesian optimisation (thesis A.2.1; HyperMapper's default optimiser) on the ask/tell interface.

1. `initial_points` networks drawn uniformly (d + 1 = 9, as in the thesis).
2. Then every ask: fit the GP (`gp.Surrogate`) to the successful evaluations, condition it on the
   networks still in flight (kriging believer), and propose the unevaluated network with the highest
   expected improvement among candidates: `random_candidates` uniform networks plus the neighbours of
   the `local_candidates` best networks so far; from the best candidate, a short best-improvement walk
   on EI over `space.neighbours` (`acquisition_steps` moves at most) refines the choice.

Failed evaluations never enter the GP (nothing to learn about the error of a network that was not
trained); they still count in the budget (the driver's job) and are never proposed again. Candidates
exclude every network asked so far, in flight included, so no network is proposed twice.

The seconds of every suggestion (fit and acquisition apart) are in `timings`; `stats()` gives those
of the network just told, so each logbook record carries the time its own suggestion took.

Several objectives (`objectives: [error, params, ...]`): ParEGO (Knowles 2006). Every suggestion draws
a weight vector uniformly from the simplex, scalarises each observed network's objectives (error as
is, costs as log10; each put on [0, 1] by the observed range) with the augmented Chebyshev function
max_i(w_i f_i) + 0.05 sum_i(w_i f_i), and maximises EI of the GP fitted to that scalar.

torch and GPyTorch (gp.py, acquisition.py) load when the strategy is built, not when its settings are
read: a config naming this kind loads without them (`era arch --config`, the report).
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from era_deap.config import bounded
from era_deap.search.strategy import SearchExhausted
from era_deap.settings import StrategyConfig

from .arrays import SpaceArrays
from .sampling import SamplingStrategy

PAREGO_RHO = 0.05     # Knowles 2006: the augmentation that makes weakly dominated points lose


@dataclass
class BayesianConfig(StrategyConfig):
    initial_points: int = bounded(9, min=2)          # d + 1 random genomes first (thesis)
    random_candidates: int = bounded(2000, min=1)    # EI evaluated on these plus local moves
    local_candidates: int = bounded(10, min=0)       # incumbents whose neighbourhoods are candidates
    acquisition_steps: int = bounded(5, min=0)       # EI hill-climbing moves from the best candidate
    fit_steps: int = bounded(50, min=1)              # L-BFGS iterations per GP fit (warm-started)


class BayesianOptimization(SamplingStrategy):
    kind = "bayesian_optimization"
    Config = BayesianConfig

    def __init__(self, space, config, seed: int):
        from .gp import Surrogate
        super().__init__(space, config, seed)
        self.arrays = SpaceArrays(space)
        self.surrogate = Surrogate(fit_steps=config.fit_steps)
        self.rows: dict[str, np.ndarray] = {}      # key -> gene positions, every asked network
        self.asked: list[str] = []                 # ask order
        self.asked_codes = np.zeros(0, dtype=np.int64)
        self.errors: dict[str, float | None] = {}  # told: error, or None for a failure
        self.values: dict[str, tuple] = {}         # told successes: the fitness values (all objectives)
        self.targets: dict[str, float] = {}        # this suggestion's GP target per observed network
        self.observed: list[str] = []              # successful tells, in tell order (the GP's data)
        self.timings: list[dict] = []              # per ask: suggest/fit/acquisition seconds
        self._neighbour_rows: dict[int, np.ndarray] = {}
        self._timing_of: dict[str, dict] = {}      # key -> the timing of its suggestion
        self.last = {"suggest_seconds": 0.0, "fit_seconds": 0.0, "acquisition_seconds": 0.0, "gp_points": 0}

    # --- ask/tell ----------------------------------------------------------------------------------

    def ask(self):
        start = time.perf_counter()
        timing = {"fit_seconds": 0.0, "acquisition_seconds": 0.0, "gp_points": len(self.observed)}
        if len(self.asked) < self.config.initial_points or len(self.observed) < 2:
            genome = self.sampler.draw(self.rng)  # too little data for a GP
        else:
            genome = self._suggest(timing)
        key = self._remember(genome)
        self.asked.append(key)
        timing["suggest_seconds"] = time.perf_counter() - start
        self.timings.append(timing)
        self._timing_of[key] = timing
        return self.space.canonical(genome)

    def tell(self, individual, result) -> None:
        key = self.space.key(individual)
        if key not in self.rows:  # not asked by us (defensive): keep it all the same
            self._remember(individual)
        self.errors[key] = result.error if result.ok else None
        if result.ok:
            self.observed.append(key)
            self.values[key] = tuple(individual.fitness.values)
        self.last = self._timing_of.get(key, self.last)

    def stats(self) -> dict:
        """How long the suggestion of the network just told took (its logbook record)."""
        return dict(self.last)

    def _remember(self, genome) -> str:
        key = self.sampler.mark(genome)
        self.rows[key] = self.arrays.positions(genome)
        self.asked_codes = np.append(self.asked_codes, self.arrays.codes(self.rows[key]))
        return key

    # --- one suggestion ----------------------------------------------------------------------------

    def _suggest(self, timing: dict):
        from .gp import own_torch_stream
        t0 = time.perf_counter()
        with own_torch_stream(self.seed):
            self.targets = self._targets()
            self.surrogate.fit(self._encode(self.observed), [self.targets[k] for k in self.observed])
            self.surrogate.believe(self._encode([k for k in self.asked if k not in self.errors]))
            t1 = time.perf_counter()
            genome = self._maximise_ei()
        timing["fit_seconds"], timing["acquisition_seconds"] = t1 - t0, time.perf_counter() - t1
        return genome

    def _maximise_ei(self):
        rows = self._unasked(self._candidates())
        if len(rows) == 0:
            raise SearchExhausted(f"all {self.space.n_unique} networks of {self.space.source} were proposed")
        scores = self._score(rows)
        best = int(scores.argmax())
        row, score = rows[best], float(scores[best])
        scored = self.arrays.codes(rows)
        for _ in range(self.config.acquisition_steps):
            moves = self._unasked(self._neighbours(row))
            moves = moves[~np.isin(self.arrays.codes(moves), scored)]
            if len(moves) == 0:
                break
            scored = np.concatenate([scored, self.arrays.codes(moves)])
            move_scores = self._score(moves)
            i = int(move_scores.argmax())
            if float(move_scores[i]) <= score:
                break
            row, score = moves[i], float(move_scores[i])
        return self.arrays.genome(row)

    def _candidates(self) -> np.ndarray:
        """Uniform networks plus the neighbours of the best networks so far (rows, may repeat)."""
        wanted = self.config.random_candidates
        if self.space.n_unique - len(self.asked) <= wanted:  # small space: all that is left
            uniform = [self.arrays.positions(g) for g in self.sampler.draw_many(self.rng, wanted)]
        else:
            uniform = self.arrays.sample(np.random.default_rng(self.rng.getrandbits(64)), wanted)
        incumbents = sorted(self.observed, key=lambda k: self.targets[k])[:self.config.local_candidates]
        local = [self._neighbours(self.rows[k]) for k in incumbents]
        return np.concatenate([np.reshape(uniform, (-1, len(self.arrays.sizes))), *local])

    def _targets(self) -> dict:
        """What the GP fits: the error, or with several objectives ParEGO's augmented Chebyshev
        scalarisation under a weight vector drawn for this suggestion (module docstring)."""
        if len(self.values[self.observed[0]]) <= 1:   # one objective (or a test that sets no fitness)
            return {k: self.errors[k] for k in self.observed}
        points = np.array([self.values[k] for k in self.observed], dtype=float)
        points[:, 1:] = np.log10(np.maximum(points[:, 1:], 1e-12))
        low, span = points.min(axis=0), np.ptp(points, axis=0)
        scaled = (points - low) / np.where(span > 0, span, 1.0)
        draws = np.array([-np.log(1.0 - self.rng.random()) for _ in range(points.shape[1])])
        weights = draws / draws.sum()
        scalar = (scaled * weights).max(axis=1) + PAREGO_RHO * (scaled * weights).sum(axis=1)
        return dict(zip(self.observed, scalar.tolist()))

    def _neighbours(self, row) -> np.ndarray:
        """Rows of `space.neighbours`, remembered: the best networks stay the same for many asks."""
        code = int(self.arrays.codes(row))
        if code not in self._neighbour_rows:
            neighbours = self.space.neighbours(self.arrays.genome(row))
            self._neighbour_rows[code] = np.array([self.arrays.positions(n) for n in neighbours],
                                                  dtype=np.int64).reshape(-1, len(row))
        return self._neighbour_rows[code]

    def _unasked(self, rows: np.ndarray) -> np.ndarray:
        """`rows` without repeats (first occurrence kept, order kept) and without asked networks."""
        codes = self.arrays.codes(rows)
        _, first = np.unique(codes, return_index=True)
        first.sort()
        rows, codes = rows[first], codes[first]
        return rows[~np.isin(codes, self.asked_codes)]

    def _encode(self, keys) -> np.ndarray:
        return self.arrays.encode(np.array([self.rows[k] for k in keys], dtype=np.int64).reshape(-1, 8))

    def _score(self, rows: np.ndarray):
        """log EI of each row (a torch tensor)."""
        from .acquisition import log_expected_improvement
        mean, std = self.surrogate.predict(self.arrays.encode(rows))
        return log_expected_improvement(mean, std, self.surrogate.best)

