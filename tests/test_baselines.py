"""Unit tests of the three baselines (random search, local search, Bayesian optimisation), played
through `strategy_loop.run_strategy`, the driver's semantics without its files."""
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from strategy_loop import best_error, evaluate, run_strategy

from era_deap.baselines.acquisition import log_expected_improvement, log_h
from era_deap.baselines.arrays import SpaceArrays
from era_deap.baselines.gp import Surrogate
from era_deap.search.strategy import SearchExhausted, make_strategy
from era_deap.settings import search_config_from
from era_deap.space.genome import to_arch
from era_deap.space.space import DEFAULT_GENES, SearchSpace, default_space
from era_deap.training.objectives import flaky_landscape, landscape
from era_deap.training.result import DIVERGED, ERROR, OK, EvalResult

SPACE = default_space()
# 160 unique networks: small enough to exhaust, large enough for 20-point neighbourhood walks.
TINY = SearchSpace(dict(DEFAULT_GENES, s1=[0, 1], s2=[1, 2], s3=[1], s4=[2, 3], filters=[2, 4],
                        group_size=[1, 2, 4]), source="<tiny>")
KINDS = ("random_search", "local_search", "bayesian_optimization")
# Small settings so each test runs in about a second.
SMALL = {"random_search": {}, "local_search": {"random_samples": 10, "starts": 3},
         "bayesian_optimization": {"initial_points": 5, "random_candidates": 300}}


def strategy(kind, seed=0, space=SPACE, **overrides):
    config = search_config_from({"name": "t", "strategy": {"kind": kind, **SMALL[kind], **overrides}}).strategy
    return make_strategy(space, config, seed)


def keys(history, space=SPACE):
    return [space.key(ind) for ind, result in history if not result.cached]


# --- every baseline ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("workers", [1, 4])
def test_asks_are_canonical_valid_and_never_repeated(kind, workers):
    s = strategy(kind)
    history = run_strategy(s, SPACE, landscape, budget=40, workers=workers)
    assert len(history) == 40 and not any(r.cached for _, r in history)  # nothing asked twice
    assert len(set(keys(history))) == 40
    for individual, _ in history:
        assert SPACE.is_valid(individual) and SPACE.canonical(individual) == individual
        assert type(individual).__name__ == "EraIndividual"


@pytest.mark.parametrize("kind", KINDS)
def test_a_tiny_space_is_used_up_exactly_then_search_exhausted(kind):
    s = strategy(kind, space=TINY, **({"initial_points": 100} if kind == "bayesian_optimization" else {}))
    history = run_strategy(s, TINY, landscape, budget=TINY.n_unique + 50)
    assert TINY.n_unique == 160
    assert sorted(keys(history, TINY)) == sorted({TINY.key(TINY.canonical(list(c))) for c in _product(TINY)})
    with pytest.raises(SearchExhausted):
        s.ask()


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_asks_other_seed_other_asks(kind):
    first = keys(run_strategy(strategy(kind, seed=3), SPACE, landscape, budget=25, workers=3))
    again = keys(run_strategy(strategy(kind, seed=3), SPACE, landscape, budget=25, workers=3))
    other = keys(run_strategy(strategy(kind, seed=4), SPACE, landscape, budget=25, workers=3))
    assert first == again and first != other


def test_same_asks_in_a_fresh_process_with_another_thread_count():
    script = (
        "import json, sys; sys.path.insert(0, {tests!r})\n"
        "from test_baselines import KINDS, SPACE, keys, strategy\n"
        "from strategy_loop import run_strategy\n"
        "from era_deap.training.objectives import landscape\n"
        "print(json.dumps({{k: keys(run_strategy(strategy(k, seed=3), SPACE, landscape, 25, workers=2))"
        " for k in KINDS}}))\n").format(tests=str(Path(__file__).parent))
    here = {k: keys(run_strategy(strategy(k, seed=3), SPACE, landscape, 25, workers=2)) for k in KINDS}
    threads = "1" if torch.get_num_threads() > 1 else "2"  # BO must not depend on the thread count
    env = {**os.environ, "OMP_NUM_THREADS": threads, "PYTHONHASHSEED": "123"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert json.loads(out.stdout) == here


@pytest.mark.parametrize("kind", KINDS)
def test_failures_count_but_are_never_the_best(kind):
    history = run_strategy(strategy(kind), SPACE, flaky_landscape, budget=40)
    statuses = {r.status for _, r in history}
    assert OK in statuses and statuses & {ERROR, DIVERGED}
    assert all(ind.fitness.values == (r.fitness,) for ind, r in history)
    assert best_error(history) == min(r.error for _, r in history if r.ok)


# --- random search ----------------------------------------------------------------------------------

@pytest.mark.parametrize("sampling", ["networks", "configurations"])
def test_random_search_draws_by_its_sampling(sampling):
    # The 160 networks of TINY, each drawn first over many seeds: equally often (`networks`), or in
    # proportion to the configurations that make it (`configurations`: a clamped group size counts
    # for each group size it stands for).
    counts = {}
    for seed in range(3200):
        key = TINY.key(strategy("random_search", seed=seed, space=TINY, sampling=sampling).ask())
        counts[key] = counts.get(key, 0) + 1
    assert len(counts) == 160
    share = {TINY.key(g): (TINY._class_size(g) if sampling == "configurations" else 1) for g in TINY.unique_genomes()}
    total = sum(share.values())
    expected = {k: 3200 * v / total for k, v in share.items()}
    chi2 = sum((counts[k] - e) ** 2 / e for k, e in expected.items())
    assert chi2 < 230  # 159 degrees of freedom: p ~ 0.0002 at 230


# --- local search -----------------------------------------------------------------------------------

def _reference_walk(space, objective, known: dict, start, steps: int) -> list:
    """Best-improvement from `start`, written plainly: the keys asked, in order, for `steps` steps."""
    asked, current = [], start
    for _ in range(steps):
        for n in space.neighbours(current):
            if space.key(n) not in known:
                known[space.key(n)] = objective(to_arch(n))
                asked.append(space.key(n))
        best = min(space.neighbours(current), key=lambda n: known[space.key(n)])
        if known[space.key(best)] >= known[space.key(current)]:
            break
        current = best
    return asked


def test_local_search_walks_best_improvement_over_space_neighbours_from_the_best_sample():
    s = strategy("local_search", random_samples=20, starts=2)
    history = run_strategy(s, SPACE, landscape, budget=120)
    asked = keys(history)
    known = {SPACE.key(i): r.error for i, r in history[:20]}
    start = min(history[:20], key=lambda h: h[1].error)[0]
    expected = _reference_walk(SPACE, landscape, dict(known), start, steps=3)
    assert len(expected) > 40  # at least two steps were taken
    assert asked[20:20 + len(expected)] == expected


def test_local_search_ends_walks_at_true_local_optima_and_continues_until_the_space_is_used():
    s = strategy("local_search", space=TINY, random_samples=5, starts=2)
    history = run_strategy(s, TINY, landscape, budget=TINY.n_unique)
    errors = {TINY.key(i): r.error for i, r in history}
    assert len(errors) == TINY.n_unique and s.local_optima
    assert s.walks_started > 2  # continued past the two starts
    for key in s.local_optima:
        genome = s.genomes[key]
        assert all(errors[TINY.key(n)] >= errors[key] for n in TINY.neighbours(genome))


def test_local_search_never_starts_or_moves_from_a_failure():
    s = strategy("local_search", random_samples=15, starts=5)
    history = run_strategy(s, SPACE, flaky_landscape, budget=150, workers=3)
    failed = {SPACE.key(i) for i, r in history if not r.ok}
    assert failed and not failed & set(s.starts) and not failed & s.explored
    assert not failed & set(s.local_optima)


def test_local_search_with_pending_neighbours_keeps_workers_busy_without_repeats():
    s = strategy("local_search", random_samples=10, starts=3)
    asked = [SPACE.key(s.ask()) for _ in range(10)]
    for key in asked:  # tell the random phase
        s.tell(SPACE.canonical(s.genomes[key]), EvalResult(OK, error=landscape(to_arch(s.genomes[key]))))
    more = [SPACE.key(s.ask()) for _ in range(60)]  # nothing told: each waiting walk opens the next
    assert len(set(asked + more)) == 70
    best = min(asked, key=lambda k: landscape(to_arch(s.genomes[k])))
    assert more[:len(s.walks[0].neighbours)] == [SPACE.key(n) for n in SPACE.neighbours(s.genomes[best])]
    assert s.walks_started >= 3 and [w.current for w in s.walks][:3] == s.starts


# --- Bayesian optimisation --------------------------------------------------------------------------

def test_bo_fits_only_successful_evaluations_and_records_every_suggestion_time():
    s = strategy("bayesian_optimization")
    history = run_strategy(s, SPACE, flaky_landscape, budget=30)
    ok = [SPACE.key(i) for i, r in history if r.ok]
    assert len(ok) < 30 and s.observed == ok
    fitted = [SPACE.key(i) for i, r in history[:-1] if r.ok]  # the last fit: before the last tell
    assert torch.equal(s.surrogate._x, torch.as_tensor(s._encode(fitted)))
    assert len(s.timings) == 30 and all(t["suggest_seconds"] > 0 for t in s.timings)
    assert set(s.stats()) >= {"suggest_seconds", "fit_seconds", "acquisition_seconds"}
    assert s.timings[-1]["gp_points"] == len(ok) and s.timings[-1]["fit_seconds"] > 0


def test_bo_logbook_records_carry_the_suggestion_time_of_the_network_told():
    s = strategy("bayesian_optimization")
    recorded = []
    tell = s.tell
    s.tell = lambda individual, result: (tell(individual, result), recorded.append(s.stats()))
    run_strategy(s, SPACE, landscape, budget=20, workers=4)  # tells arrive out of ask order
    assert sorted(r["suggest_seconds"] for r in recorded) == sorted(t["suggest_seconds"] for t in s.timings)
    assert [r["suggest_seconds"] for r in recorded] != [t["suggest_seconds"] for t in s.timings]


def test_bo_with_pending_points_never_proposes_one_twice_and_believes_them():
    s = strategy("bayesian_optimization", initial_points=5)
    for _ in range(8):
        individual = s.ask()
        s.tell(individual, EvalResult(OK, error=landscape(to_arch(individual))))
    pending = [s.ask() for _ in range(6)]  # none told: the GP holds five kriging-believer points
    assert len({SPACE.key(p) for p in pending}) == 6
    assert s.surrogate._x.shape[0] == 8 + 5
    x = s.arrays.encode(np.stack([s.arrays.positions(p) for p in pending]))
    _, believed = s.surrogate.predict(x)
    s.surrogate.fit(s._encode(s.observed), [s.errors[k] for k in s.observed])
    _, unbelieved = s.surrogate.predict(x)
    assert bool((believed[:5] < 0.5 * unbelieved[:5]).all())  # uncertainty at pending points collapsed


@pytest.fixture
def one_thread():
    # As BayesianOptimization runs its GP; threads on busy shared cores make these fits 50x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_gp_fit_survives_hundreds_of_points_constant_targets_and_outliers(one_thread):
    rng = np.random.default_rng(0)
    arrays = SpaceArrays(SPACE)
    x = arrays.encode(np.unique(arrays.sample(rng, 260), axis=0)[:250])
    for y in (rng.uniform(5, 90, len(x)), np.full(len(x), 12.5), np.r_[np.full(len(x) - 1, 10.0), 1e6]):
        surrogate = Surrogate(fit_steps=50)
        surrogate.fit(x, y)
        surrogate.fit(x, y)  # warm start
        mean, std = surrogate.predict(x[:10])
        assert torch.isfinite(mean).all() and torch.isfinite(std).all() and (std > 0).all()


def test_gp_matches_a_known_function_and_is_deterministic(one_thread):
    rng = np.random.default_rng(1)
    x = rng.uniform(size=(60, 8))
    y = 10 + 5 * np.sin(3 * x[:, 0]) + x[:, 5] ** 2
    fits = []
    for _ in range(2):
        s = Surrogate()
        s.fit(x[:50], y[:50])
        fits.append(s.predict(x[50:]))
    assert torch.equal(fits[0][0], fits[1][0]) and torch.equal(fits[0][1], fits[1][1])
    predicted = fits[0][0] * s.y_std + s.y_mean
    assert float((predicted - torch.as_tensor(y[50:])).abs().mean()) < 0.5


# --- building blocks --------------------------------------------------------------------------------

def test_log_expected_improvement_matches_the_closed_form_and_orders_far_tails():
    from scipy.stats import norm
    u = np.array([4.0, 1.0, 0.0, -0.5, -1.0, -3.0, -10.0, -25.0])
    expected = np.log(u * norm.cdf(u) + norm.pdf(u))
    assert np.allclose(log_h(torch.as_tensor(u)).numpy(), expected, rtol=1e-9)
    far = log_h(torch.tensor([-40.0, -100.0, -1e3, -1e5], dtype=torch.float64))
    assert torch.isfinite(far).all() and bool((far[:-1] > far[1:]).all())
    ei = log_expected_improvement(torch.tensor([0.0, 1.0]), torch.tensor([1.0, 1.0]), best=0.5)
    assert float(ei[0]) > float(ei[1])


@pytest.mark.parametrize("space", [SPACE, TINY], ids=["default", "tiny"])
def test_space_arrays_agree_with_the_search_space(space):
    arrays = SpaceArrays(space)
    import random
    rng = random.Random(0)
    for _ in range(300):
        genome = space.sample(rng)
        row = arrays.positions(genome)
        assert np.allclose(arrays.encode(row), space.encode(genome))
        assert arrays.genome(row) == space.canonical(genome)
    rows = arrays.sample(np.random.default_rng(0), 20000)
    assert len(rows) > 19000
    names = {}  # code -> key: one name per network
    for row in rows[:500]:
        genome = arrays.genome(row)
        assert np.array_equal(arrays.positions(genome), row)  # rows are canonical
        assert names.setdefault(int(arrays.codes(row)), space.key(genome)) == space.key(genome)
    assert len(set(names.values())) == len(names)
    # Uniform over unique networks: the share of each (filters, group) pair matches sample_unique's.
    ours = _pair_shares(rows[:, [5, 7]])
    theirs = _pair_shares(np.stack([arrays.positions(space.sample_unique(rng))[[5, 7]] for _ in range(20000)]))
    assert max(abs(ours[k] - theirs.get(k, 0)) for k in ours) < 0.02


def test_strategy_loop_turns_objective_failures_into_statuses_and_caches_repeats():
    genome = SPACE.sample_unique(__import__("random").Random(0))

    def objective(value):
        return lambda arch, seed: value() if callable(value) else value

    assert evaluate(objective(12.5), genome, 0).status == OK
    assert evaluate(objective(float("nan")), genome, 0).status == DIVERGED
    assert evaluate(objective(math.inf), genome, 0).status == DIVERGED
    assert evaluate(objective(None), genome, 0).status == ERROR
    assert evaluate(objective("12.5"), genome, 0).status == ERROR
    assert evaluate(objective(lambda: 1 / 0), genome, 0).message.count("ZeroDivisionError")

    class Repeater:  # asks the same network three times, then stops
        def __init__(self):
            self.n, self.told = 0, []

        def ask(self):
            self.n += 1
            if self.n > 3:
                raise SearchExhausted()
            return SPACE.canonical(genome)

        def tell(self, individual, result):
            self.told.append(result.cached)

    r = Repeater()
    history = run_strategy(r, SPACE, landscape, budget=5)
    assert r.told == [False, True, True] and len(history) == 3


def _product(space):
    import itertools
    return itertools.product(*(g.values for g in space.genes))


def _pair_shares(pairs) -> dict:
    values, counts = np.unique(pairs, axis=0, return_counts=True)
    return {tuple(v): c / len(pairs) for v, c in zip(values, counts)}
