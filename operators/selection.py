"""Selection and removal for steady-state evolution (thesis Algorithm 2; Real et al. 2019)."""
from __future__ import annotations

import random


def sel_tournament_loser(population, tournsize: int, fit_attr: str = "fitness"):
    """Draw `tournsize` distinct individuals; return `(winners, loser)`.

    `winners` are the drawn individuals from best to worst without the loser (Algorithm 2 mutates the
    first; crossover evolution mates the first two); `loser` is the worst drawn, which plain evolution
    removes from the population.
    """
    drawn = random.sample(population, tournsize)
    ranked = sorted(drawn, key=lambda ind: getattr(ind, fit_attr), reverse=True)  # DEAP: greater is better
    return ranked[:-1], ranked[-1]


def sel_oldest(population, birth_attr: str = "birth"):
    """The individual with the smallest birth index (regularized evolution removes it)."""
    return min(population, key=lambda ind: getattr(ind, birth_attr))
