"""Guided searches beat random search on the synthetic landscape with a known optimum (issue 5).

Budget 100 in the default space, default configs (the thesis protocol: population 50; 50 random
samples and 10 starts; 9 initial points). Each guided strategy is compared with random search over the
same seeds: 40 for the cheap ones. Bayesian optimisation (~2.5 s a search of 100 on 2 cores) gets 6 seeds
at budget 50, where its margin is already wide (over 10 seeds: mean best 7.0 against random search's
19.9 at 50; 5.4 against 17.5 at 100).

Regularized evolution's margin is small at this budget: with population 50 half the budget is its
random initial population, and over 40 seeds its mean is ~0.4 points below random search's (the
comparison table in docs/baselines.md has the spread). It is the strategy most likely to flip this test
if its implementation changes; a flip there is a finding about evolution at budget 100, not noise.
"""
import statistics
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from compare_strategies import best_of_budget  # noqa: E402

BUDGET = {"local_search": 100, "regularized_evolution": 100, "bayesian_optimization": 50}
SEEDS = {"local_search": range(40), "regularized_evolution": range(40), "bayesian_optimization": range(6)}


@pytest.mark.parametrize("kind", [
    "local_search",
    "regularized_evolution",
    pytest.param("bayesian_optimization", marks=pytest.mark.slow),
])
def test_guided_search_has_a_better_mean_best_of_budget_than_random_search(kind):
    seeds, budget = SEEDS[kind], BUDGET[kind]
    guided = statistics.mean(best_of_budget(kind, seeds, budget))
    random_search = statistics.mean(best_of_budget("random_search", seeds, budget))
    assert guided < random_search, f"{kind}: mean best {guided:.2f} vs random search {random_search:.2f}"
