"""What the report can say when the runs of a search looked their networks up in a benchmark table
(config `evaluator: {objective: table, table: ...}`): the true optimum is known.

    regret       the table's mean error (over its training seeds) of the search's best network so far
                 (the one with the lowest error the search observed) minus the optimum's mean error.
                 The mean over seeds, not the one seed the search saw, keeps it >= 0 and measures the
                 network the search would return, not that seed's luck.
    top 1%       a network whose mean error is within the best 1% of the table's networks (at most the
                 1st percentile of their mean errors, as `era bench info` says: bench/summary.py).

The searches on a table are compared on the regret per seed (`regret_rank_sum`), beside comparison.py's
tests on the best error observed: the best of many noisy observations flatters a search (winner's curse).

`benchmarks(searches)` groups the searches by the table they ran on; a search it cannot place is named
in the reasons it returns, and searches not on a table are left to the caller to mention.
"""
from __future__ import annotations

import itertools
from bisect import bisect_right
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..bench import table as bench_table
from ..errors import ConfigError
from .comparison import (FEW_SEEDS_CAVEAT, Measure, common_count, multi_fidelity_left_out, pairwise_table,
                         with_two_seeds)
from .curves import best_evaluation, counted, incumbents, multi_fidelity, training_epochs
from ..search.outputs import format_mean_ci, mean_ci
from .tables import UNFINISHED_NOTE, Table, markdown, marked_label

COUNTS = (50, 100, 200)      # evaluations at which the benchmark table reports (thesis budget: 200)


@dataclass
class Benchmark:
    table: bench_table.Table
    searches: list = field(default_factory=list)

    def __post_init__(self):
        self.means = self.table.mean_errors()
        self.optimum_key, self.optimum = self.table.optimum()
        values = np.array(sorted(self.means.values()))
        self.top_threshold = float(np.percentile(values, 1))
        self.top_count = int(np.sum(values <= self.top_threshold))
        gaps = values[values > self.optimum] - self.optimum
        # the smallest regret above 0 a single seed can have: where a log axis can stop
        self.smallest_gap = float(gaps.min()) if len(gaps) else 1.0

    @property
    def name(self) -> str:
        return self.table.name

    @property
    def full_epochs(self) -> int:
        """A full training's epochs: the table's schedule."""
        return int(self.table.data["epochs"])

    @property
    def multi_fidelity(self) -> list:
        return [s for s in self.searches if multi_fidelity(s)]

    @property
    def single_fidelity(self) -> list:
        return [s for s in self.searches if not multi_fidelity(s)]

    def epochs_spent(self, run) -> list:
        """Per evaluation: the training epochs the run had spent up to and including it."""
        return list(itertools.accumulate(training_epochs(run.evaluations, self.full_epochs)))

    def regrets(self, run) -> list:
        """Per evaluation: the regret of the run's best network so far (None before its first success)."""
        return [None if best is None else self.means[best.key] - self.optimum
                for best in incumbents(run.evaluations)]

    def found_top(self, run) -> list:
        """Per evaluation: 1 once the run has evaluated a top-1% network successfully, else 0."""
        out, found = [], 0
        for e in run.evaluations:
            found = found or int(e.ok and not e.cached and self.means[e.key] <= self.top_threshold)
            out.append(found)
        return out

    def at(self, run, n: int) -> tuple:
        """(best error observed, regret, found a top-1% network) after the run's first n evaluations;
        the first two are None before its first success."""
        best = best_evaluation(run.evaluations[:n])
        found = any(self.means[e.key] <= self.top_threshold for e in counted(run.evaluations[:n]))
        return (None, None, found) if best is None else (best.error, self.means[best.key] - self.optimum, found)

    def at_epochs(self, run, epochs: int) -> tuple:
        """`at` after the run's evaluations whose cumulative training epochs stay within `epochs`."""
        return self.at(run, bisect_right(self.epochs_spent(run), epochs))


def benchmarks(searches) -> tuple[list, list]:
    """([Benchmark] one per table with its searches, in order; [reason] for each table search left out)."""
    found: dict = {}
    reasons = []
    for search in searches:
        specs = {r.table for r in search.runs}
        if specs == {None}:
            continue
        if len(specs) > 1:   # one config, one table; several would be configs grouped apart
            reasons.append(f"{search.label}: its runs name different tables ({', '.join(map(str, specs))})")
            continue
        table, problem = locate_table(specs.pop(), search.runs[0].path)
        problem = problem or _mismatch(search, table)
        if problem:
            reasons.append(f"{search.label}: {problem}")
            continue
        found.setdefault(table.source, Benchmark(table)).searches.append(search)
    return list(found.values()), reasons


def locate_table(spec: str, run_path: Path):
    """The table a run's config names: a shipped name, a path from where `era report` runs, or a path
    relative to a folder above the run (where `era search` ran: run_all.sh runs from the repository)."""
    tries = [spec]
    if not Path(spec).is_absolute():
        tries += [str(parent / spec) for parent in Path(run_path).resolve().parents]
    for attempt in tries:
        try:
            table = bench_table.Table.load(attempt)
        except ConfigError:
            continue
        if not table.complete:
            return None, f"table {spec} ({table.source}) is partial: its optimum is not known"
        return table, ""
    return None, f"table {spec} not found (as a shipped name, or a path here or above {run_path})"


def _mismatch(search, table) -> str:
    means = table.mean_errors()
    missing = {e.key for r in search.runs for e in counted(r.evaluations)} - set(means)
    if missing:
        return (f"{len(missing)} of its evaluated networks have no mean error in table {table.name} "
                f"(e.g. {min(missing)}): was the table rebuilt since?")
    return ""


def report_counts(search) -> list:
    """The COUNTS every seed of `search` reached; when it reached none, the count all its seeds reached."""
    reached = min(len(r.evaluations) for r in search.runs)
    return [n for n in COUNTS if n <= reached] or ([reached] if reached else [])


# --- the table: best error and regret at fixed counts ----------------------------------------------

BENCHMARK_COLUMNS = ["table", "search", "name", "evaluations", "seeds", "best_mean", "best_ci", "regret_mean",
                     "regret_ci", "top1_found"]


def benchmark_table(bench: Benchmark, stem: str) -> Table:
    """Per single-fidelity search and count of report_counts: mean ± 95% CI over seeds of the best error
    observed and of the regret, and how many seeds had found a top-1% network."""
    shown = bench.single_fidelity
    rows, md = _summary_rows(bench, shown, report_counts, "evaluations", bench.at)
    notes = [f"Optimum of table `{bench.name}`: {bench.optimum_key}, mean error {bench.optimum:.2f}% over its "
             f"training seeds. Regret: the table's mean error of the search's best network so far minus the "
             f"optimum's (percentage points). Top 1%: the {bench.top_count} networks with a mean error of at most "
             f"{bench.top_threshold:.2f}%. Seeds: those with a successful evaluation by then; a count is shown "
             "when every seed of the search reached it."]
    notes += _multi_fidelity_left_out(bench)
    return _summary_table(stem, f"Benchmark `{bench.name}`: best error and regret at a number of evaluations",
                          BENCHMARK_COLUMNS, "Evaluations", rows, md, notes, shown)


def _summary_table(stem, title, columns, count_header, rows, md, notes, searches) -> Table:
    """The Table of benchmark_table or epochs_table: one row per search and count, as _summary gives it."""
    if any(not s.finished for s in searches):
        notes = [*notes, UNFINISHED_NOTE]
    return Table(stem, f"{title} (mean ± 95% CI over seeds)", columns, rows,
                 markdown(["Search", count_header, "Seeds", "Best error (%)", "Regret (points)",
                           "Found a top-1% network"], md), notes)


def _summary_rows(bench: Benchmark, searches, counts, column: str, at) -> tuple[list, list]:
    """(CSV rows, Markdown rows): per search and count in counts(search), the _summary of every seed's
    at(run, count) (Benchmark.at after n evaluations, or Benchmark.at_epochs after n epochs)."""
    rows, md = [], []
    for s in searches:
        for n in counts(s):
            fields, cells = _summary(s, [at(r, n) for r in s.runs])
            rows.append({"table": bench.name, "search": s.label, "name": s.name, column: n, **fields})
            md.append([marked_label(s), n, *cells])
    return rows, md


def _summary(search, at: list) -> tuple[dict, list]:
    """From each seed's Benchmark.at tuple: (CSV fields, Markdown cells) of the best error and the regret
    (mean ± 95% CI over the seeds with a full training by then) and the seeds that found a top-1% network."""
    bests = [best for best, _, _ in at if best is not None]
    regrets = [regret for _, regret, _ in at if regret is not None]
    found = sum(top for _, _, top in at)
    (best_mean, best_half), (regret_mean, regret_half) = mean_ci(bests), mean_ci(regrets)
    fields = {"seeds": len(bests), "best_mean": best_mean, "best_ci": best_half, "regret_mean": regret_mean,
              "regret_ci": regret_half, "top1_found": found}
    return fields, [len(bests), format_mean_ci(best_mean, best_half, 2), format_mean_ci(regret_mean, regret_half, 3),
                    f"{found} of {len(search.runs)}"]


def _multi_fidelity_left_out(bench: Benchmark) -> list:
    """The note of a table at evaluation counts that leaves the multi-fidelity searches out ([] if none)."""
    return multi_fidelity_left_out([s.label for s in bench.multi_fidelity],
                                   "they are compared with every search at equal training epochs below")


# --- the same at equal training epochs (multi-fidelity searches) ----------------------------------

EPOCHS_COLUMNS = [c if c != "evaluations" else "epochs" for c in BENCHMARK_COLUMNS]


def common_epochs(bench: Benchmark) -> int:
    """The smallest total training epochs any run of the benchmark spent."""
    return min((bench.epochs_spent(r)[-1] if r.evaluations else 0 for s in bench.searches for r in s.runs),
               default=0)


def epochs_table(bench: Benchmark, stem: str) -> Table | None:
    """Per search (single- and multi-fidelity) at E/4, E/2 and E training epochs, E = common_epochs:
    what benchmark_table gives at evaluation counts. None when some run trained nothing."""
    total = common_epochs(bench)
    if total == 0:
        return None
    points = sorted({total // 4, total // 2, total} - {0})
    rows, md = _summary_rows(bench, bench.searches, lambda s: points, "epochs", bench.at_epochs)
    notes = [f"Every search after the same training: E/4, E/2 and E = **{total} epochs**, the smallest total "
             f"any run on table `{bench.name}` spent. A rung costs its epochs, a full training the schedule's "
             f"{bench.full_epochs}, a cache hit nothing; a seed counts its evaluations whose cumulative epochs stay "
             "within the count. The best error, the regret and the top-1% networks count full trainings only "
             "(a rung's error is the network's after a few epochs, as the regret figure against epochs does). "
             "Seeds: those with a full training by then. Regret and top 1% as in the table above."]
    return _summary_table(stem, f"Benchmark `{bench.name}`: best error and regret at equal training epochs",
                          EPOCHS_COLUMNS, "Training epochs", rows, md, notes, bench.searches)


# --- rank-sum tests on the regret ------------------------------------------------------------------

def seed_regrets(search, at, point: int) -> list:
    """Regret of each seed at `point` (at: Benchmark.at after n evaluations, or Benchmark.at_epochs after n
    epochs), for the seeds with a full training by then."""
    return [regret for _, regret, _ in (at(r, point) for r in search.runs) if regret is not None]


_REGRET_TEST_TEXT = ("Lower regret is better. Two-sided Mann–Whitney U (`scipy.stats.mannwhitneyu`); p (Holm): "
                     "adjusted for the number of pairs on this table. A (Vargha–Delaney, from U): the probability "
                     "that a seed of search A ends with a lower regret than a seed of search B, ties (such as two "
                     "seeds that both found the optimum) counting half; 0.5 is no difference. "
                     f"{FEW_SEEDS_CAVEAT}")


def regret_rank_sum(bench: Benchmark, stem: str) -> tuple[Table | None, str]:
    """Pairwise tests between the table's single-fidelity searches on the regret per seed at the smallest
    count every seed of them reached; (None, reason) with fewer than two searches of two or more seeds."""
    several = [s for s in bench.single_fidelity if len(s.runs) >= 2]
    n = common_count(several)
    samples = {s.label: seed_regrets(s, bench.at, n) for s in several}
    eligible = with_two_seeds(several, samples)
    if len(eligible) < 2:
        return None, (f"Rank-sum tests on the regret on table `{bench.name}` skipped: they need at least two "
                      f"searches on it with two or more seeds each (found {len(eligible)}).")
    note = (f"Every seed is compared at **{n} evaluations**, the smallest count every seed of these searches "
            "reached, on its regret: the table's mean error (over its training seeds) of the network with the "
            f"lowest error the seed observed in its first {n} evaluations, minus the optimum's, in percentage "
            "points. The best error observed (the rank-sum tests between searches) is one training seed's "
            "error, and the best of many noisy observations flatters a search that observed many; the table's "
            "mean removes the luck of that one seed and compares the networks the searches would return. "
            f"{_REGRET_TEST_TEXT}")
    return pairwise_table(stem, f"Pairwise rank-sum tests on the regret on `{bench.name}` (per seed at {n} "
                          "evaluations)", eligible, samples, n, Measure("Regret", "points", 3),
                          [note, *_multi_fidelity_left_out(bench)]), ""


def regret_rank_sum_epochs(bench: Benchmark, stem: str) -> tuple[Table | None, str]:
    """Pairwise tests between all the table's searches on the regret per seed at E training epochs (the
    epochs table's E); (None, reason) with fewer than two searches of two or more seeds."""
    total = common_epochs(bench)
    several = [s for s in bench.searches if len(s.runs) >= 2]
    samples = {s.label: seed_regrets(s, bench.at_epochs, total) for s in several}
    eligible = with_two_seeds(several, samples)
    if len(eligible) < 2:
        return None, (f"Rank-sum tests on the regret at equal training epochs on table `{bench.name}` skipped: "
                      "they need at least two searches on it with two or more seeds each and a full training "
                      f"within {total} epochs (found {len(eligible)}).")
    note = (f"Every seed of every search, single- and multi-fidelity, is compared after **{total} training "
            "epochs** (E of the table above), on its regret: the table's mean error of the network with the "
            "lowest error among the full trainings of the seed's evaluations within those epochs, minus the "
            f"optimum's, in percentage points. {_REGRET_TEST_TEXT}")
    return pairwise_table(stem, f"Pairwise rank-sum tests on the regret on `{bench.name}` at equal training "
                          f"epochs (per seed at {total} epochs)", eligible, samples, total,
                          Measure("Regret", "points", 3), [note], count_column="epochs"), ""
