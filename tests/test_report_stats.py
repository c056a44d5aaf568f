"""era_deap/report/statistics.py's tests between searches: scipy's tests, Holm's adjustment and the
Vargha–Delaney A, checked against scipy and against a count over all pairs; search/outputs.py's mean_ci."""
import math
import random

import pytest
from scipy import stats as scipy_stats

from era_deap.report.statistics import holm, pairwise, vargha_delaney
from era_deap.search.outputs import mean_ci


def pair_count(a, b):
    """A by definition: over every pair (x from a, y from b), 1 when x < y, 0.5 on a tie."""
    return sum((x < y) + 0.5 * (x == y) for x in a for y in b) / (len(a) * len(b))


def test_vargha_delaney_is_the_share_of_pairs_where_a_is_lower_ties_counting_half():
    rng = random.Random(0)
    for _ in range(20):
        a = [round(rng.uniform(0, 5)) for _ in range(rng.randint(2, 9))]   # rounded: many ties
        b = [round(rng.uniform(1, 6)) for _ in range(rng.randint(2, 9))]
        assert vargha_delaney(a, b) == pytest.approx(pair_count(a, b))
        assert vargha_delaney(a, b) + vargha_delaney(b, a) == pytest.approx(1.0)
    assert vargha_delaney([1, 2], [3, 4]) == 1.0 and vargha_delaney([3, 3], [3, 3]) == 0.5


def test_holm_multiplies_the_k_th_smallest_p_by_m_minus_k_and_keeps_the_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == [1.0, 1.0]
    assert holm([]) == []


def test_pairwise_independent_is_mann_whitney_with_holm_and_a():
    samples = {"a": [21.0, 21.5, 22.0, 21.2], "b": [23.0, 22.1, 22.5, 24.0], "c": [21.1, 23.5, 22.2, 21.9]}
    tests = pairwise(samples)
    assert [(t.a, t.b) for t in tests] == [("a", "b"), ("a", "c"), ("b", "c")]
    expected = [scipy_stats.mannwhitneyu(samples[t.a], samples[t.b], alternative="two-sided") for t in tests]
    assert [t.p_value for t in tests] == pytest.approx([e.pvalue for e in expected], rel=1e-12)
    assert [t.statistic for t in tests] == [e.statistic for e in expected]
    assert [t.p_holm for t in tests] == pytest.approx(holm([e.pvalue for e in expected]))
    assert [t.effect for t in tests] == pytest.approx([pair_count(samples[t.a], samples[t.b]) for t in tests])
    assert tests[0].test == "mann-whitney-u" and tests[0].median_a == 21.35


def test_pairwise_paired_is_wilcoxon_signed_rank_on_the_seeds():
    samples = {"a": [21.0, 21.5, 22.0, 21.2, 20.9, 21.7], "b": [21.4, 22.1, 22.3, 22.0, 21.0, 22.4]}
    (test,) = pairwise(samples, paired=True)
    expected = scipy_stats.wilcoxon(samples["a"], samples["b"], alternative="two-sided")
    assert test.test == "wilcoxon" and test.statistic == expected.statistic
    assert test.p_value == pytest.approx(expected.pvalue) and test.p_holm == test.p_value
    with pytest.raises(ValueError, match="equal lengths"):
        pairwise({"a": [1.0, 2.0], "b": [1.0]}, paired=True)
    (same,) = pairwise({"a": [1.0, 2.0, 3.0], "b": [1.0, 2.0, 3.0]}, paired=True)
    assert same.p_value == 1.0 and same.effect == 0.5


def test_mean_ci_is_scipys_t_interval():
    values = [20.1, 21.3, 22.0, 20.8, 21.1]
    mean, half = mean_ci(values)
    low, high = scipy_stats.t.interval(0.95, len(values) - 1, loc=scipy_stats.tmean(values),
                                       scale=scipy_stats.sem(values))
    assert (mean - half, mean + half) == pytest.approx((low, high))
    one_mean, one_half = mean_ci([3.0])
    assert one_mean == 3.0 and math.isnan(one_half)   # no interval from one value


# --- resolution: the smallest difference a test detects with 80% power ---------------------------

Z_975, Z_80 = 1.959963984540054, 0.8416212335729143     # the normal quantiles, written out


def test_detectable_difference_of_paired_samples_is_the_normal_approximation_over_the_rank_tests_efficiency():
    from era_deap.report.statistics import detectable_difference
    baseline = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    differences = [0.5, -0.5, 1.5, -1.5, 0.5, -0.5, 1.5, -1.5]      # mean 0, sd sqrt(10 / 7)
    variant = [b + d for b, d in zip(baseline, differences)]
    sd = (sum(d * d for d in differences) / 7) ** 0.5
    expected = (Z_975 + Z_80) * sd / 8 ** 0.5 / (3 / 3.141592653589793) ** 0.5
    assert detectable_difference(variant, baseline, paired=True) == pytest.approx(expected)
    # independent samples: the standard error of a difference of two means
    a, b = [1.0, 3.0, 5.0], [2.0, 2.0, 8.0, 8.0]
    se = (4.0 / 3 + 12.0 / 4) ** 0.5          # var(a) = 4, var(b) = 12
    assert detectable_difference(a, b) == pytest.approx((Z_975 + Z_80) * se / (3 / 3.141592653589793) ** 0.5)
    assert detectable_difference([1.0], [2.0, 3.0]) is None
    assert detectable_difference([1.0, 1.0], [1.0, 1.0]) is None     # no spread: no statement
    # four times the seeds: about half the detectable difference (the sd's n - 1 aside)
    sd4 = (4 * sum(d * d for d in differences) / 31) ** 0.5
    assert detectable_difference(variant * 4, baseline * 4, paired=True) == pytest.approx(
        (Z_975 + Z_80) * sd4 / 32 ** 0.5 / (3 / 3.141592653589793) ** 0.5)


def test_pairwise_tests_carry_their_resolution_and_their_family():
    from era_deap.report.statistics import detectable_difference, pairwise
    samples = {"a": [1.0, 2.0, 3.0, 4.0], "b": [2.0, 3.0, 5.0, 9.0], "c": [0.0, 1.0, 1.0, 2.0]}
    tests = pairwise(samples)
    assert [t.family for t in tests] == [3, 3, 3]
    assert tests[0].detectable == pytest.approx(detectable_difference(samples["a"], samples["b"]))
    (paired,) = pairwise({"a": samples["a"], "b": samples["b"]}, paired=True)
    assert paired.detectable == pytest.approx(detectable_difference(samples["a"], samples["b"], paired=True))
