"""Statistics for comparing searches over their seeds: scipy's tests, with Holm's correction and the
Vargha–Delaney effect size. Nothing here knows about runs; samples are plain numbers, lower is better.

    mean, half = mean_ci(values)          # mean and the 95% t-interval's half-width
    tests = pairwise({"A": [...], "B": [...]})                # independent seeds: Mann–Whitney U
    tests = pairwise({"A": [...], "B": [...]}, paired=True)   # seed k of A against seed k of B: Wilcoxon
"""
from __future__ import annotations

import itertools
import statistics
import warnings
from dataclasses import dataclass

from scipy import stats

from ..search.outputs import mean_ci  # noqa: F401  (the report's statistics, one home)


def holm(pvalues) -> list:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def vargha_delaney(a, b, u: float | None = None) -> float:
    """A = P(a < b) + 0.5 P(a = b) over all pairs of one value of `a` and one of `b`: the chance that `a`
    does better (lower). 0.5: no difference. From the Mann–Whitney U of `a` (pairs where a > b, ties
    counting half), which `u` may pass in when it is already computed."""
    if u is None:
        u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    return 1.0 - float(u) / (len(a) * len(b))


@dataclass(frozen=True)
class PairTest:
    a: str
    b: str
    n_a: int
    n_b: int
    median_a: float
    median_b: float
    test: str            # "mann-whitney-u" or "wilcoxon"
    statistic: float     # U of a, or Wilcoxon's W
    p_value: float       # two-sided
    p_holm: float        # adjusted over all the pairs tested together
    effect: float        # Vargha–Delaney A of a against b


def pairwise(samples: dict, paired: bool = False) -> list:
    """Every pair of `samples` (label -> values, in the dict's order): a two-sided test, Holm's adjustment
    over all pairs, and A. Independent samples: `scipy.stats.mannwhitneyu`. Paired (value k of each sample
    from the same seed, equal lengths): `scipy.stats.wilcoxon` on the differences."""
    raw = []
    for (a, xa), (b, xb) in itertools.combinations(samples.items(), 2):
        u = stats.mannwhitneyu(xa, xb, alternative="two-sided")
        if paired:
            if len(xa) != len(xb):
                raise ValueError(f"paired samples need equal lengths: {a} has {len(xa)}, {b} {len(xb)}")
            with warnings.catch_warnings():   # all differences zero: scipy warns and answers p = 1
                warnings.simplefilter("ignore", RuntimeWarning)
                test = stats.wilcoxon(xa, xb, alternative="two-sided")
        else:
            test = u
        raw.append((a, b, xa, xb, float(test.statistic), float(test.pvalue), vargha_delaney(xa, xb, u.statistic)))
    adjusted = holm([r[5] for r in raw])
    return [PairTest(a, b, len(xa), len(xb), float(statistics.median(xa)), float(statistics.median(xb)),
                     "wilcoxon" if paired else "mann-whitney-u", statistic, p, p_holm, effect)
            for (a, b, xa, xb, statistic, p, effect), p_holm in zip(raw, adjusted)]
