"""`era bench verify`'s arithmetic: retrainings against the table, and grouped against one at a time."""
import pytest
from scipy import stats

from era_deap.bench.verify import compare, paired_difference


def test_paired_difference_is_one_network_minus_grouped_with_a_t_interval_and_wilcoxon():
    differences = [1.0, 2.0, 0.5, 1.5, -0.5, 1.0]
    result = paired_difference(differences)
    mean, sem = sum(differences) / 6, stats.sem(differences)
    assert result["pairs"] == 6 and result["mean"] == pytest.approx(mean)
    half = stats.t.ppf(0.975, 5) * sem
    assert result["ci95"] == pytest.approx([mean - half, mean + half])
    assert result["wilcoxon_p"] == pytest.approx(stats.wilcoxon(differences).pvalue)
    assert result["mean_abs"] == pytest.approx(sum(abs(d) for d in differences) / 6)
    assert paired_difference([1.0, 2.0]) is None          # too few pairs for an interval


def test_compare_pairs_the_two_live_retrainings_by_network_and_seed_and_skips_failures():
    rows = [{"table": [10.0, 12.0, 11.0], "grouped": [10.0, 12.0, 11.0], "single": [11.0, 13.0, None]},
            {"table": [5.0, 6.0, 7.0], "grouped": [5.5, 6.0, 7.0], "single": [6.5, 6.0, 8.0]},
            {"table": [20.0, 22.0, 21.0], "grouped": [20.0, 22.0, 21.0], "single": [21.0, 23.0, 22.0]}]
    result = compare(rows)
    assert not result["grouped_identical"] and result["grouped_max_abs_difference"] == 0.5
    paired = result["grouped_vs_single"]
    assert paired["pairs"] == 8                            # the failed one-at-a-time seed drops out
    assert paired["mean"] == pytest.approx((1 + 1 + 1 + 0 + 1 + 1 + 1 + 1) / 8)
