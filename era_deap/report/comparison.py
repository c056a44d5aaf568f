"""Searches compared on their seeds at one evaluation count that every compared seed reached.

Seeds of one search may have run different budgets (one resumed with a larger --budget, one stopped
early): a best error after 400 evaluations is no match for one after 200. So the comparison takes
each seed's best error over its first N evaluations, N the smallest count every compared seed reached,
and says N. The tests are stats.py's: two-sided Mann–Whitney U between every pair of searches with
two or more seeds, Holm-adjusted, with the Vargha–Delaney A of each pair. `pairwise_table` lays them
out; benchmark.py's tests on the regret use it too.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass

from .curves import best_evaluation, multi_fidelity
from ..search.outputs import mean_ci_text
from .stats import pairwise
from .tables import UNFINISHED_NOTE, Table, markdown, marked_label

RANK_SUM_COLUMNS = ["search_a", "search_b", "evaluations", "n_a", "n_b", "median_a", "median_b", "u_statistic",
                    "p_value", "p_holm", "vargha_delaney_a"]
FEW_SEEDS_CAVEAT = ("With few seeds the smallest attainable p is large (3 vs 3 seeds: 0.1), so read these as a "
                    "guide, not a verdict.")


def common_count(searches) -> int:
    """The smallest number of evaluations any run of `searches` reached."""
    return min((len(r.evaluations) for s in searches for r in s.runs), default=0)


def seed_bests(search, n: int) -> list:
    """Best error of each seed over its first n evaluations, for the seeds with a success by then."""
    bests = [best_evaluation(r.evaluations[:n]) for r in search.runs]
    return [b.error for b in bests if b is not None]


def unequal_budget_notes(searches) -> list:
    """One line per search whose seeds reached different evaluation counts."""
    lines = []
    for s in searches:
        counts = {r.seed: len(r.evaluations) for r in s.runs}
        if len(set(counts.values())) > 1:
            shown = ", ".join(f"seed {seed}: {n}" for seed, n in counts.items())
            lines.append(f"The seeds of {s.label} reached different evaluation counts ({shown}); figures count "
                         "each seed up to its last evaluation, comparisons cut every seed at the same count.")
    return lines


def rank_sum(searches) -> tuple[Table | None, str]:
    """Pairwise tests on the best error at the common count; (None, reason) with fewer than two searches
    of two or more seeds."""
    rungs = [s.label for s in searches if multi_fidelity(s)]
    several = [s for s in searches if len(s.runs) >= 2 and s.label not in rungs]
    n = common_count(several)
    samples = {s.label: seed_bests(s, n) for s in several}
    eligible = with_two_seeds(several, samples)
    left_out = multi_fidelity_left_out(rungs, "on a benchmark table the report compares them at equal training epochs")
    if len(eligible) < 2:
        return None, " ".join(["Rank-sum tests skipped: they need at least two single-fidelity searches with "
                               f"two or more seeds each (found {len(eligible)}). Run a search with several seeds "
                               "to compare strategies.", *left_out])
    notes = [f"Every seed is compared at **{n} evaluations**, the smallest count every compared seed reached: "
             f"each seed's best error over its first {n} evaluations. Two-sided Mann–Whitney U (Wilcoxon "
             "rank-sum) test, `scipy.stats.mannwhitneyu`; p (Holm): adjusted for the number of pairs. "
             "A (Vargha–Delaney, from U): the probability that a seed of search A ends with a lower best error "
             f"than a seed of search B, ties counting half; 0.5 is no difference. {FEW_SEEDS_CAVEAT}", *left_out]
    return pairwise_table("rank_sum", f"Pairwise rank-sum tests between searches (best error per seed at {n} "
                          "evaluations)", eligible, samples, n, Measure("Best error", "%", 2), notes), ""


def with_two_seeds(searches, samples: dict) -> list:
    """The searches with two or more per-seed values in `samples` (label -> values at the compared point)."""
    return [s for s in searches if len(samples[s.label]) >= 2]


def multi_fidelity_left_out(labels, instead: str) -> list:
    """The note of a comparison at equal evaluations that leaves the multi-fidelity searches `labels` out
    ([] if none); `instead` says where they are compared at equal training epochs."""
    if not labels:
        return []
    return [f"Multi-fidelity searches left out: {', '.join(labels)}. Most of their evaluations train a network "
            "for a few epochs only, so at equal evaluations they have trained far less than the others; "
            f"{instead}."]


@dataclass(frozen=True)
class Measure:
    """What a rank-sum table compares per seed, as its Markdown shows it."""
    name: str      # "Best error": the per-search column is "Best error at N (%): mean ± 95% CI"
    unit: str      # "%" or "points"
    digits: int

    def text(self, value) -> str:
        return f"{value:.{self.digits}f}"


def pairwise_table(stem: str, title: str, eligible, samples: dict, n: int, measure: Measure, notes,
                   count_column: str = "evaluations") -> Table:
    """stats.pairwise's two-sided Mann–Whitney tests between the `eligible` searches on `samples` (label ->
    per-seed values at n evaluations, or n of `count_column` such as "epochs"; lower is better), as a Table:
    per search the values' mean ± 95% CI, median and range, then one row per pair. Every rank-sum table on a
    lower-is-better value is this one."""
    tests = pairwise({s.label: samples[s.label] for s in eligible})
    columns = [count_column if c == "evaluations" else c for c in RANK_SUM_COLUMNS]
    rows = [{"search_a": t.a, "search_b": t.b, count_column: n, "n_a": t.n_a, "n_b": t.n_b,
             "median_a": t.median_a, "median_b": t.median_b, "u_statistic": t.statistic, "p_value": t.p_value,
             "p_holm": t.p_holm, "vargha_delaney_a": t.effect} for t in tests]
    text = measure.text
    seeds_md = markdown(["Search", "Seeds", f"{measure.name} at {n} ({measure.unit}): mean ± 95% CI", "Median",
                         "Range"],
                        [[marked_label(s), len(samples[s.label]), mean_ci_text(samples[s.label], measure.digits),
                          text(statistics.median(samples[s.label])),
                          f"{text(min(samples[s.label]))}–{text(max(samples[s.label]))}"]
                         for s in eligible])
    pairs_md = markdown(["Search A", "Search B", f"Median A ({measure.unit})", f"Median B ({measure.unit})", "U",
                         "p", "p (Holm)", "A: P(A lower)"],
                        [[t.a, t.b, text(t.median_a), text(t.median_b), f"{t.statistic:g}",
                          f"{t.p_value:.3g}", f"{t.p_holm:.3g}", f"{t.effect:.2f}"] for t in tests])
    if any(not s.finished for s in eligible):
        notes = [*notes, UNFINISHED_NOTE]
    return Table(stem, title, columns, rows, seeds_md + "\n" + pairs_md, notes)

