"""The report's tables, each a ReportTable: Markdown (the thesis's layout, for report.md and tables.md)
and CSV (exact numbers: what a script or a test reads back). The numbers come from statistics.py and
pareto.py.

    table1  final training: baselines and each search's best architecture trained fully (thesis 1)
    table2  best architecture per search at search fidelity: layers, params, validation error (thesis 2)
    table10 genes of the best architecture of each evolutionary search (thesis A.4, table 10)
    table11 the same for the other searches: random search, local search, BO and any other non-evolutionary
            one, such as ASHA and Hyperband (thesis A.4, table 11)
    rank_sum                         searches compared on their seeds at one evaluation count
    benchmark[-T], benchmark_epochs[-T], regret_rank_sum[-T], regret_rank_sum_epochs[-T]
                                     runs on benchmark table T: best error and regret, at evaluation
                                     counts and at equal training epochs, and the tests on the regret
    measures[-T], measure_tests[-T]  the thesis's measures (mean error of all and of the last 50
                                     evaluated) and the exploration measures beside them, with tests
    pareto_summary, pareto_front, hypervolume_rank_sum, true_front[-T], pareto_gap[-T]
                                     the multi-objective part

"Best" over several seeds of a search is the best over all of them; the seed is named.

Seeds of one search may have run different budgets (one resumed with a larger --budget, one stopped
early): a best error after 400 evaluations is no match for one after 200. So every rank-sum table takes
each seed's value over its first N evaluations, N the smallest count every compared seed reached, and
says N: two-sided Mann–Whitney U between every pair of searches with two or more seeds, Holm-adjusted,
with the Vargha–Delaney A of each pair and the smallest difference each test detects with 80% power
(statistics.pairwise; `pairwise_table` lays them out).
"""
from __future__ import annotations

import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..search.outputs import MISSING, format_mean_ci, markdown_table, mean_ci, mean_ci_text, write_csv
from ..space.architecture import cardinality, complexity
from ..space.genome import GENES
from .pareto import dataset_shape
from .statistics import (
    COUNTS,
    MEASURES,
    Benchmark,
    common_count,
    common_epochs,
    measure_tests,
    multi_fidelity,
    pairwise,
    report_counts,
    search_best,
    seed_bests,
    seed_measures,
    seed_regrets,
    with_two_seeds,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .pareto import FrontGap, SearchFronts
    from .runs import Collection, SearchRuns
    from .statistics import MeasureTest


@dataclass
class ReportTable:
    """One table of the report: its Markdown section and its CSV file."""
    stem: str                 # file name without extension
    title: str
    columns: list             # CSV header
    rows: list                # CSV rows: dicts over `columns`
    markdown: str             # the table in the thesis's layout
    notes: list = field(default_factory=list)

    def section(self) -> str:
        notes = "".join(f"\n{n}\n" for n in self.notes)
        return f"### {self.title}\n\n{self.markdown}\n{notes}"

    def write_csv(self, out_dir: Path) -> Path:
        return write_csv(Path(out_dir) / f"{self.stem}.csv", self.columns, self.rows)


# --- formatting -----------------------------------------------------------------------------------

def fmt_params(n: float | None) -> str:
    """Thesis style: 15.0M, 0.92M; smaller networks (the quick profile) in k."""
    if n is None:
        return MISSING
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e5:
        return f"{n / 1e6:.2f}M"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return str(n)


def fmt_error(x: float | None) -> str:
    return MISSING if x is None else f"{x:.2f}"


def fmt_sections(genes: Sequence[str | int]) -> str:
    return "[" + ",".join(str(g) for g in genes[1:5]) + "]"


def marked_label(search: SearchRuns) -> str:
    return search.label + ("" if search.finished else " †")


UNFINISHED_NOTE = "† unfinished: the best so far of a search that has not finished."


# --- table 2 --------------------------------------------------------------------------------------

TABLE2_COLUMNS = ["search", "name", "kind", "layers", "params", "error", "key", "index", "seed", "run",
                  "seeds", "evaluated", "failed", "finished", "table_mean_error"]


def table2(searches: Sequence[SearchRuns], benches: Iterable[Benchmark] = ()) -> ReportTable:
    """Per search its best single observation over all its seeds. `benches` (statistics.Benchmark with their
    searches): a search on one of them also shows the table's mean error of that network, what it is worth."""
    means = {s.key: b.means for b in benches for s in b.searches}
    several = any(len(s.runs) > 1 for s in searches)
    rows, md = [], []
    for s in searches:
        run, best = search_best(s)
        evaluated = sum(len(r.evaluations) for r in s.runs)
        failed = sum(sum(r.failed.values()) for r in s.runs)
        table_mean = means[s.key].get(best.key) if best is not None and s.key in means else None
        rows.append({"search": s.label, "name": s.name, "kind": s.kind,
                     "layers": best.depth if best else "", "params": best.params if best else "",
                     "error": best.error if best else "", "key": best.key if best else "",
                     "index": best.index if best else "", "seed": run.seed if run else "",
                     "run": str(run.path) if run else "", "seeds": len(s.runs), "evaluated": evaluated,
                     "failed": failed, "finished": int(s.finished), "table_mean_error": _or_empty(table_mean)})
        where = MISSING if best is None else f"#{best.index}" + (f" (seed {run.seed})" if len(s.runs) > 1 else "")
        md.append([marked_label(s), best.depth if best and best.depth is not None else MISSING,
                   fmt_params(best.params if best else None), fmt_error(best.error if best else None),
                   *([fmt_error(table_mean)] if means else []), where, f"{evaluated} ({failed} failed)"])
    notes = []
    if several:
        notes.append("Error: the best single observation of the search over all its seeds' evaluations, the "
                     "luckiest of many (the winner's curse when an observation is one noisy training), not what "
                     "a typical run of the search returns; the benchmark part below compares the seeds.")
    if means:
        notes.append("Table mean: the benchmark table's mean error of that network over its training seeds: what "
                     "the network is worth, without the luck of the one observation.")
    if any(not s.finished for s in searches):
        notes.append(UNFINISHED_NOTE)
    error = "Best single observation over the seeds (%)" if several else "Error (%)"
    return ReportTable("table2", "Table 2: validation error at search fidelity of the best architecture per "
                       "search", TABLE2_COLUMNS, rows,
                       markdown_table(["Model/Origin", "# layers", "# params", error,
                                       *(["Table mean (%)"] if means else []), "Found at evaluation",
                                       "Evaluated"], md), notes)


# --- tables 10 and 11 -----------------------------------------------------------------------------

GENE_COLUMNS = ["search", "name", "kind", "key", "block", "s1", "s2", "s3", "s4", "filters", "filter_update",
                "group_size", "cardinality", "depth", "params", "error"]


def gene_tables(searches: Sequence[SearchRuns]) -> list:
    """Table 10 (evolutionary searches) and table 11 (baselines); a table with no search is left out."""
    evolutionary = [s for s in searches if s.evolutionary]
    baselines = [s for s in searches if not s.evolutionary]
    tables = []
    if evolutionary:
        tables.append(_gene_table("table10", "Table 10: the best architecture found by each evolutionary search",
                                  evolutionary))
    if baselines:
        tables.append(_gene_table("table11", "Table 11: the best architecture found by each non-evolutionary "
                                  f"search ({', '.join(s.label for s in baselines)})", baselines))
    return tables


def _gene_table(stem, title, searches) -> ReportTable:
    rows, columns = [], []
    for s in searches:
        _, best = search_best(s)
        if best is None:
            rows.append({"search": s.label, "name": s.name, "kind": s.kind})
            columns.append([MISSING] * 7)
            continue
        g, groups = best.genes, cardinality(best.arch)   # a success: its genes passed arch_problem
        rows.append({"search": s.label, "name": s.name, "kind": s.kind, "key": best.key, "block": g[0],
                     "s1": g[1], "s2": g[2], "s3": g[3], "s4": g[4], "filters": g[5], "filter_update": g[6],
                     "group_size": g[7], "cardinality": groups, "depth": best.depth,
                     "params": best.params, "error": best.error})
        columns.append([str(g[0]).capitalize(), fmt_sections(g), g[5], g[6], groups,
                        MISSING if best.depth is None else best.depth, fmt_params(best.params)])
    parameters = ["Block type", "Sections", "Filters", "Filter update", "Cardinality", "Depth", "Weights"]
    body = [[p, *(c[i] for c in columns)] for i, p in enumerate(parameters)]
    notes = [UNFINISHED_NOTE] if any(not s.finished for s in searches) else []
    return ReportTable(stem, title, GENE_COLUMNS, rows,
                       markdown_table(["Parameter", *(marked_label(s) for s in searches)], body), notes)


# --- table 1 --------------------------------------------------------------------------------------

TABLE1_COLUMNS = ["model", "search", "seed", "layers", "params", "error", "error_kind", "epochs", "seconds",
                  "key", "path"]


def table1(collection: Collection) -> ReportTable | None:
    finals = collection.finals
    if not finals:
        return None
    seeds_with_final: dict = {}
    for f in finals:
        seeds_with_final[f.search] = seeds_with_final.get(f.search, 0) + 1
    rows, md = [], []
    for f in finals:
        d = f.data
        label = f.label
        if f.search is not None and seeds_with_final[f.search] > 1:
            label += f" (seed {f.seed})"
        rows.append({"model": label, "search": f.search or "", "seed": "" if f.seed is None else f.seed,
                     "layers": d.get("depth", ""), "params": d.get("params", ""), "error": d.get("error", ""),
                     "error_kind": d.get("error_kind", ""), "epochs": d.get("epochs", ""),
                     "seconds": d.get("seconds", ""), "key": d.get("key", ""), "path": str(f.path)})
        md.append([label, d.get("depth", MISSING), fmt_params(d.get("params")), fmt_error(d.get("error")),
                   d.get("error_kind", MISSING), d.get("epochs", MISSING)])
    return ReportTable("table1", "Table 1: error after full training (best architecture of each search, "
                       "baselines)", TABLE1_COLUMNS, rows,
                       markdown_table(["Model/Origin", "# layers", "# params", "Error (%)", "Measured on",
                                       "Epochs"], md))


# --- rank-sum tests between searches --------------------------------------------------------------

RANK_SUM_COLUMNS = ["search_a", "search_b", "evaluations", "n_a", "n_b", "median_a", "median_b", "u_statistic",
                    "p_value", "p_holm", "vargha_delaney_a"]
FEW_SEEDS_CAVEAT = ("With few seeds the smallest attainable p is large (3 vs 3 seeds: 0.1), so read these as a "
                    "guide, not a verdict.")


def rank_sum(searches: Sequence[SearchRuns]) -> tuple[ReportTable | None, str]:
    """Pairwise tests on the best error at the common count; (None, reason) with fewer than two searches
    of two or more seeds."""
    rungs = [s.label for s in searches if multi_fidelity(s)]
    several = [s for s in searches if len(s.runs) >= 2 and s.label not in rungs]
    n = common_count(several)
    samples = {s.label: seed_bests(s, n) for s in several}
    eligible = with_two_seeds(several, samples)
    left_out = multi_fidelity_left_out(rungs, "on a benchmark table the report compares them at equal training epochs")
    if len(eligible) < 2:
        # Say what is missing: seeds (then how to get them), or single-fidelity searches (then nothing to run).
        one_seed = [s.label for s in searches if len(s.runs) < 2 and s.label not in rungs]
        hint = [f"Run {', '.join(one_seed)} with several seeds (`./run_all.sh --repeats K`, or `era search "
                "--seed`) to compare it with the others."] if one_seed else []
        return None, " ".join([f"Rank-sum tests on the best error skipped: they need at least two single-fidelity "
                               f"searches with two or more seeds each, and this report has {len(eligible)}.",
                               *hint, *left_out])
    notes = [f"Every seed is compared at **{n} evaluations**, the smallest count every compared seed reached: "
             f"each seed's best error over its first {n} evaluations. Two-sided Mann–Whitney U (Wilcoxon "
             "rank-sum) test, `scipy.stats.mannwhitneyu`; p (Holm): adjusted for the number of pairs. "
             "A (Vargha–Delaney, from U): the probability that a seed of search A ends with a lower best error "
             f"than a seed of search B, ties counting half; 0.5 is no difference. {FEW_SEEDS_CAVEAT}", *left_out]
    return pairwise_table("rank_sum", f"Pairwise rank-sum tests between searches (best error per seed at {n} "
                          "evaluations)", eligible, samples, n, Measure("Best error", "%", 2), notes), ""


def multi_fidelity_left_out(labels: Sequence[str], instead: str) -> list:
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

    def text(self, value: float) -> str:
        return f"{value:.{self.digits}f}"


def pairwise_table(stem: str, title: str, eligible: Sequence[SearchRuns], samples: dict, n: int, measure: Measure,
                   notes: list[str], count_column: str = "evaluations") -> ReportTable:
    """statistics.pairwise's two-sided Mann–Whitney tests between the `eligible` searches on `samples`
    (label -> per-seed values at n evaluations, or n of `count_column` such as "epochs"; lower is better),
    as a ReportTable: per search the values' mean ± 95% CI, median and range, then one row per pair. Every
    rank-sum table on a
    lower-is-better value is this one."""
    tests = pairwise({s.label: samples[s.label] for s in eligible})
    columns = [count_column if c == "evaluations" else c for c in RANK_SUM_COLUMNS] + ["detectable_80"]
    rows = [{"search_a": t.a, "search_b": t.b, count_column: n, "n_a": t.n_a, "n_b": t.n_b,
             "median_a": t.median_a, "median_b": t.median_b, "u_statistic": t.statistic, "p_value": t.p_value,
             "p_holm": t.p_holm, "vargha_delaney_a": t.effect, "detectable_80": _or_empty(t.detectable)}
            for t in tests]
    text = measure.text
    seeds_md = markdown_table(["Search", "Seeds", f"{measure.name} at {n} ({measure.unit}): mean ± 95% CI",
                               "Median", "Range"],
                              [[marked_label(s), len(samples[s.label]),
                                mean_ci_text(samples[s.label], measure.digits),
                                text(statistics.median(samples[s.label])),
                                f"{text(min(samples[s.label]))}–{text(max(samples[s.label]))}"]
                               for s in eligible])
    pairs_md = markdown_table(["Search A", "Search B", f"Median A ({measure.unit})",
                               f"Median B ({measure.unit})", "U", "p", f"p (Holm over {len(tests)} pairs)",
                               f"Detectable ({measure.unit})", "A: P(A lower)"],
                              [[t.a, t.b, text(t.median_a), text(t.median_b), f"{t.statistic:g}",
                                f"{t.p_value:.3g}", f"{t.p_holm:.3g}", _detectable(t.detectable),
                                f"{t.effect:.2f}"] for t in tests])
    notes = [*notes, DETECTABLE_NOTE]
    if any(not s.finished for s in eligible):
        notes = [*notes, UNFINISHED_NOTE]
    return ReportTable(stem, title, columns, rows, seeds_md + "\n" + pairs_md, notes)


DETECTABLE_NOTE = ("Detectable: the smallest difference in means between the two searches that this test detects "
                   "with 80% power at these seed counts, (z(0.975) + z(0.8)) · √(sd_A²/n_A + sd_B²/n_B) / √(3/π) "
                   "(normal approximation; 3/π: the rank-sum test's efficiency against the t-test; "
                   "`statistics.detectable_difference`). Where p ≥ 0.05, no difference was detected, and a "
                   "difference of this size would have been detected 80% of the time.")


def _detectable(value) -> str:
    return MISSING if value is None else f"{value:.3g}"


def _or_empty(value):
    return "" if value is None else value


# --- benchmark tables: best error and regret at fixed counts --------------------------------------

BENCHMARK_COLUMNS = ["table", "search", "name", "evaluations", "seeds", "best_mean", "best_ci", "regret_mean",
                     "regret_ci", "top1_found"]


def benchmark_table(bench: Benchmark, stem: str) -> ReportTable | None:
    """Per single-fidelity search and count of report_counts: mean ± 95% CI over seeds of the best error
    observed and of the regret, and how many seeds had found a top-1% network; None without a
    single-fidelity search (an empty table under its header said nothing)."""
    shown = bench.single_fidelity
    if not shown:
        return None
    rows, md = _summary_rows(bench, shown, report_counts, "evaluations", bench.at)
    notes = [f"Optimum of table `{bench.name}`: {bench.optimum_key}, mean error {bench.optimum:.2f}% over its "
             f"training seeds. Regret: the table's mean error of the search's best network so far minus the "
             f"optimum's (percentage points). Top 1%: the {bench.top_count} networks with a mean error of at most "
             f"{bench.top_threshold:.2f}%. Seeds: those with a successful evaluation by then; a count is shown "
             "when every seed of the search reached it."]
    notes += _multi_fidelity_left_out_of(bench)
    return _summary_table(stem, f"Benchmark `{bench.name}`: best error and regret at a number of evaluations",
                          BENCHMARK_COLUMNS, "Evaluations", rows, md, notes, shown)


def _summary_table(stem, title, columns, count_header, rows, md, notes, searches) -> ReportTable:
    """The ReportTable of benchmark_table or epochs_table: one row per search and count, as _summary gives
    it."""
    if any(not s.finished for s in searches):
        notes = [*notes, UNFINISHED_NOTE]
    return ReportTable(stem, f"{title} (mean ± 95% CI over seeds)", columns, rows,
                       markdown_table(["Search", count_header, "Seeds", "Best error (%)", "Regret (points)",
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
    return fields, [len(bests), format_mean_ci(best_mean, best_half, 2),
                    format_mean_ci(regret_mean, regret_half, 3), f"{found} of {len(search.runs)}"]


def _multi_fidelity_left_out_of(bench: Benchmark) -> list:
    """The note of a table at evaluation counts that leaves the multi-fidelity searches out ([] if none)."""
    return multi_fidelity_left_out([s.label for s in bench.multi_fidelity],
                                   "they are compared with every search at equal training epochs below")


# --- the thesis's measures and the exploration measures -------------------------------------------

MEASURE_COLUMNS = ["table", "search", "name", "evaluations", "seeds",
                   *[f"{m.key}_{part}" for m in MEASURES for part in ("mean", "ci")]]


def measures_table(bench: Benchmark, stem: str) -> ReportTable:
    """Per single-fidelity search and count of report_counts: mean ± 95% CI over seeds of every measure of
    statistics.MEASURES."""
    rows, md = [], []
    for s in bench.single_fidelity:
        for n in report_counts(s):
            values = seed_measures(bench, s, n)
            row = {"table": bench.name, "search": s.label, "name": s.name, "evaluations": n,
                   "seeds": len(values["best"])}
            cells = []
            for m in MEASURES:
                mean, half = mean_ci(values[m.key])
                row.update({f"{m.key}_mean": mean, f"{m.key}_ci": half})
                cells.append(format_mean_ci(mean, half, m.digits))
            rows.append(row)
            md.append([marked_label(s), n, len(values["best"]), *cells])
    notes = ["What each measures: " + "; ".join(
                 f"**{m.title}**: {m.measures}" + (f" (thesis {m.thesis})" if m.thesis else "") for m in MEASURES)
             + f". Top 5%: the {bench.top5_count} networks with a mean error of at most {bench.top5_threshold:.2f}%; "
             f"top 1%: the {bench.top_count} at most {bench.top_threshold:.2f}%. Observed errors are what the search "
             "saw (one training seed, or the table's mean with `observe: mean`); the regret and the exploration "
             "measures use the table's mean (so with `observe: mean` the best error observed is the best table mean "
             "among evaluated, and the regret is it minus the optimum: three views of one number). A count is shown "
             "when every seed of the search reached it.",
             *_multi_fidelity_left_out_of(bench)]
    return _unfinished(ReportTable(stem, f"Benchmark `{bench.name}`: the thesis's measures and exploration, per "
                                   "seed at a number of evaluations (mean ± 95% CI over seeds)", MEASURE_COLUMNS,
                                   rows, markdown_table(["Search", "Evaluations", "Seeds",
                                                         *[m.title for m in MEASURES]], md), notes),
                       bench.single_fidelity)


def _unfinished(table: ReportTable, searches) -> ReportTable:
    if any(not s.finished for s in searches):
        table.notes.append(UNFINISHED_NOTE)
    return table


def measure_counts(bench: Benchmark) -> list:
    """The COUNTS every seed of the table's single-fidelity searches with two or more seeds reached; when
    they reached none, the count they all reached ([] without two such searches)."""
    several = [s for s in bench.single_fidelity if len(s.runs) >= 2]
    if len(several) < 2:
        return []
    n = common_count(several)
    return [c for c in COUNTS if c <= n] or ([n] if n else [])


def bench_measure_tests(bench: Benchmark) -> list:
    """statistics.measure_tests at every measure_counts count."""
    several = [s for s in bench.single_fidelity if len(s.runs) >= 2]
    return [t for n in measure_counts(bench) for t in measure_tests(bench, several, n)]


MEASURE_TEST_COLUMNS = ["table", "measure", "evaluations", "search_a", "search_b", "n_a", "n_b", "mean_a", "mean_b",
                        "median_a", "median_b", "u_statistic", "p_value", "p_holm", "holm_over", "a_better",
                        "detectable_80", "better"]


def measure_cell(t: MeasureTest) -> str:
    """One test as a cell of a pair's row: who is better at which p (Holm), or what could have been detected."""
    if t.better is not None:
        return f"{'A' if t.better == t.test.a else 'B'} better, p {t.test.p_holm:.2g}"
    detectable = t.test.detectable
    return "not detected" + ("" if detectable is None else f" (≥ {detectable:.2g})")


def measure_tests_table(bench: Benchmark, found: list, stem: str) -> tuple[ReportTable | None, str]:
    """The tests of bench_measure_tests: every one in the CSV; in Markdown those at the largest count, one row
    per pair of searches and a column per measure. (None, reason) without tests."""
    if not found:
        return None, (f"Tests on the thesis's measures on table `{bench.name}` skipped: they need at least two "
                      "searches on it with two or more seeds each.")
    rows = [{"table": bench.name, "measure": t.measure.key, "evaluations": t.count, "search_a": t.test.a,
             "search_b": t.test.b, "n_a": t.test.n_a, "n_b": t.test.n_b, "mean_a": t.mean_a, "mean_b": t.mean_b,
             "median_a": t.test.median_a, "median_b": t.test.median_b, "u_statistic": t.test.statistic,
             "p_value": t.test.p_value, "p_holm": t.test.p_holm, "holm_over": t.test.family, "a_better": t.a_better,
             "detectable_80": _or_empty(t.test.detectable), "better": t.better or ""} for t in found]
    last = max(t.count for t in found)
    pairs = {}
    for t in found:
        if t.count == last:
            pairs.setdefault((t.test.a, t.test.b), []).append(measure_cell(t))
    md = markdown_table(["Search A", "Search B", *[m.title for m in MEASURES]],
                        [[a, b, *cells] for (a, b), cells in pairs.items()])
    family = found[0].test.family
    notes = [f"Every seed at **{last} evaluations** (`measure_tests.csv` also has "
             f"{', '.join(str(c) for c in sorted({t.count for t in found}) if c != last) or 'no other count'}). "
             "Per measure, two-sided Mann–Whitney U between every pair (`scipy.stats.mannwhitneyu`); p (Holm) "
             f"adjusts over the {family} pairs of one measure at one count, not over the measures (each answers "
             "its own question) or the counts. A cell says which search of the pair is better at p (Holm) < 0.05, "
             "or that no difference was detected, with the smallest difference in means the test detects with "
             "80% power at these seeds (in the measure's unit; `detectable_80` in the CSV). Higher is better for "
             "the top-5% count and the top-1% share, lower for the others.", DETECTABLE_NOTE]
    return ReportTable(stem, f"Benchmark `{bench.name}`: tests on the thesis's measures at {last} evaluations",
                       MEASURE_TEST_COLUMNS, rows, md, notes), ""


# --- the same at equal training epochs (multi-fidelity searches) ----------------------------------

EPOCHS_COLUMNS = [c if c != "evaluations" else "epochs" for c in BENCHMARK_COLUMNS]


def epochs_table(bench: Benchmark, stem: str) -> ReportTable | None:
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


# --- rank-sum tests on the regret -----------------------------------------------------------------

_REGRET_TEST_TEXT = ("Lower regret is better. Two-sided Mann–Whitney U (`scipy.stats.mannwhitneyu`); p (Holm): "
                     "adjusted for the number of pairs on this table. A (Vargha–Delaney, from U): the probability "
                     "that a seed of search A ends with a lower regret than a seed of search B, ties (such as two "
                     "seeds that both found the optimum) counting half; 0.5 is no difference. "
                     f"{FEW_SEEDS_CAVEAT}")


def regret_rank_sum(bench: Benchmark, stem: str) -> tuple[ReportTable | None, str]:
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
                          [note, *_multi_fidelity_left_out_of(bench)]), ""


def regret_rank_sum_epochs(bench: Benchmark, stem: str) -> tuple[ReportTable | None, str]:
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


# --- multi-objective: hypervolume and fronts ------------------------------------------------------

HV_DIGITS = 4


def _hv(value) -> str:
    return MISSING if value is None or math.isnan(value) else f"{value:.{HV_DIGITS}f}"


def _searched(fronts) -> str:
    return ", ".join(fronts.objectives)



SUMMARY_COLUMNS = ["search", "name", "objectives", "seeds", "evaluations_min", "evaluations_max",
                   "hypervolume_mean", "hypervolume_ci", "hypervolume_median", "median_seed", "median_front_size"]


def pareto_summary_table(all_fronts: Sequence[SearchFronts]) -> ReportTable:
    rows, md = [], []
    for f in all_fronts:
        volumes = [r.hypervolume for r in f.runs]
        counts = [len(r.run.evaluations) for r in f.runs]
        mean, half = mean_ci(volumes)
        median = f.median
        rows.append({"search": f.search.label, "name": f.search.name, "objectives": " ".join(f.objectives),
                     "seeds": len(f.runs), "evaluations_min": min(counts), "evaluations_max": max(counts),
                     "hypervolume_mean": mean, "hypervolume_ci": half,
                     "hypervolume_median": statistics.median(volumes),
                     "median_seed": "" if median is None or median.run.seed is None else median.run.seed,
                     "median_front_size": len(median.front) if median else 0})
        evaluated = str(min(counts)) if min(counts) == max(counts) else f"{min(counts)}–{max(counts)}"
        md.append([marked_label(f.search), _searched(f), len(f.runs), evaluated,
                   mean_ci_text(volumes, HV_DIGITS), _hv(statistics.median(volumes)),
                   MISSING if median is None else f"{median.run.seed if median.run.seed is not None else '—'}: "
                                                  f"{len(median.front)} networks"])
    notes = ["Hypervolume of each seed's front (error x params, normalised as in `search/fitness.py`: error / 100, "
             "log10(params) between 1 and 9; reference point 1.1, 1.1) after its last evaluation; mean ± 95% "
             "t-interval over seeds. A search that minimised the error only is measured on the same plane, from "
             "the networks it evaluated. Median seed: by that hypervolume (the lower of the middle two)."]
    if any(not f.search.finished for f in all_fronts):
        notes.append(UNFINISHED_NOTE)
    return ReportTable("pareto_summary", "Hypervolume per search (error x params)", SUMMARY_COLUMNS, rows,
                       markdown_table(["Search", "Minimised", "Seeds", "Evaluations",
                                       "Hypervolume: mean ± 95% CI", "Median", "Median seed: front"], md),
                       notes)


FRONT_COLUMNS = ["search", "name", "seed", "index", "key", *GENES, "cardinality", "error", "params", "macs",
                 "table_mean_error"]


def pareto_front_table(all_fronts: Iterable[SearchFronts], gaps: Iterable[FrontGap] = ()) -> ReportTable:
    """Each search's median seed's front, by params; on a benchmark table also the table's mean error of
    every network on it (what the gap measures)."""
    means = {f.search.key: gap.points for gap in gaps for f in gap.fronts}   # search -> the table's networks
    rows, md = [], []
    for f in all_fronts:
        median = f.median
        if median is None:
            continue
        shape = dataset_shape(median.run)
        table = means.get(f.search.key)
        for i, n in enumerate(median.front):
            e = n.evaluation
            macs = complexity(e.arch, *shape)["macs"]
            mean = table[n.key].error if table else None
            rows.append({"search": f.search.label, "name": f.search.name,
                         "seed": "" if median.run.seed is None else median.run.seed, "index": e.index,
                         "key": n.key, **dict(zip(GENES, e.genes)), "cardinality": cardinality(e.arch),
                         "error": n.error, "params": n.params, "macs": macs,
                         "table_mean_error": "" if mean is None else mean})
            first = i == 0
            seed = MISSING if median.run.seed is None else median.run.seed
            md.append([marked_label(f.search) if first else "", seed if first else "", f"`{n.key}`",
                       fmt_error(n.error), fmt_params(n.params), fmt_params(macs),
                       *([fmt_error(mean)] if means else [])])
    notes = ["Per search, the front of its median seed by final hypervolume (the seed drawn bold in the Pareto "
             "figure), not the union of its seeds: what a typical run of the search returns. Sorted by parameters; "
             "MACs: multiply-adds per image, from the architecture arithmetic on the run's dataset. Network: "
             "`block-s1.s2.s3.s4-f<filters>-u<filter update>-g<group size>`; `pareto_front.csv` has every gene."]
    if means:
        notes.append("Table mean error: the network's mean validation error over the benchmark table's training "
                     "seeds (the search saw one seed), the value the hypervolume gap measures it with.")
    if any(not f.search.finished for f in all_fronts):
        notes.append(UNFINISHED_NOTE)
    header = ["Search", "Seed", "Network", "Error (%)", "# params", "MACs",
              *(["Table mean error (%)"] if means else [])]
    return ReportTable("pareto_front", "Pareto fronts: each search's median seed (error x params)",
                       FRONT_COLUMNS, rows, markdown_table(header, md), notes)


def hypervolume_rank_sum(all_fronts: Iterable[SearchFronts]) -> tuple:
    """Pairwise tests on each seed's hypervolume after N evaluations, N the smallest count every compared
    seed reached; (None, reason) with fewer than two searches of two or more seeds. A higher hypervolume
    is better, so statistics.pairwise (lower is better) is given the negated values: its p is the same, its A
    becomes P(A's hypervolume higher), and U is reported for the hypervolumes themselves."""
    several = [f for f in all_fronts if len(f.runs) >= 2]
    if len(several) < 2:
        return None, ("Rank-sum tests on the hypervolume skipped: they need at least two searches with two or "
                      f"more seeds each (found {len(several)}).")
    n = common_count([f.search for f in several])
    samples = {f.search.label: [r.hypervolume_at(n) for r in f.runs] for f in several}
    tests = pairwise({label: [-v for v in values] for label, values in samples.items()})
    rows, pairs = [], []
    for t in tests:
        u = t.n_a * t.n_b - t.statistic      # U of a's hypervolumes: pairs where a's is higher, ties half
        median_a, median_b = statistics.median(samples[t.a]), statistics.median(samples[t.b])
        rows.append({"search_a": t.a, "search_b": t.b, "evaluations": n, "n_a": t.n_a, "n_b": t.n_b,
                     "median_a": median_a, "median_b": median_b, "u_statistic": u, "p_value": t.p_value,
                     "p_holm": t.p_holm, "vargha_delaney_a": t.effect})
        pairs.append([t.a, t.b, _hv(median_a), _hv(median_b), f"{u:g}", f"{t.p_value:.3g}", f"{t.p_holm:.3g}",
                      f"{t.effect:.2f}"])
    seeds_md = markdown_table(["Search", "Seeds", f"Hypervolume at {n}: mean ± 95% CI", "Median", "Range"],
                              [[marked_label(f.search), len(samples[f.search.label]),
                                mean_ci_text(samples[f.search.label], HV_DIGITS),
                                _hv(statistics.median(samples[f.search.label])),
                                f"{_hv(min(samples[f.search.label]))}–{_hv(max(samples[f.search.label]))}"]
                               for f in several])
    pairs_md = markdown_table(["Search A", "Search B", "Median A", "Median B", "U", "p", "p (Holm)",
                               "A: P(A higher)"], pairs)
    notes = [f"Every seed is compared at **{n} evaluations**, the smallest count every compared seed reached: the "
             f"hypervolume of its front after its first {n} evaluations. Two-sided Mann–Whitney U "
             "(`scipy.stats.mannwhitneyu`), U of search A's hypervolumes; p (Holm): adjusted for the number of "
             "pairs. A (Vargha–Delaney): the probability that a seed of search A ends with a higher hypervolume "
             "than a seed of search B, ties counting half; 0.5 is no difference."]
    if any(not f.search.finished for f in several):
        notes.append(UNFINISHED_NOTE)
    return ReportTable("hypervolume_rank_sum", f"Pairwise rank-sum tests on the hypervolume (per seed at {n} "
                       "evaluations)", RANK_SUM_COLUMNS, rows, seeds_md + "\n" + pairs_md, notes), ""


TRUE_FRONT_COLUMNS = ["table", "key", *GENES, "mean_error", "params", "macs"]


def true_front_table(gap: FrontGap, stem: str) -> ReportTable:
    rows, md = [], []
    table = gap.bench.table
    for n in gap.true_front:
        arch = table.networks[n.key]["arch"]
        genes = [arch["block"], *arch["sections"], arch["filters"], arch["filter_update"], arch["group_size"]]
        rows.append({"table": gap.name, "key": n.key, **dict(zip(GENES, genes)), "mean_error": n.error,
                     "params": n.params, "macs": n.macs})
        md.append([f"`{n.key}`", fmt_error(n.error), fmt_params(n.params), fmt_params(n.macs)])
    notes = [f"Every network of table `{gap.name}` ({len(gap.points):,} with a mean error) at its mean validation "
             f"error over the table's training seeds against its parameters; these {len(gap.true_front)} are the "
             f"ones no other network dominates. Hypervolume {gap.true_hypervolume:.4f}."]
    return ReportTable(stem, f"The true Pareto front of table `{gap.name}`", TRUE_FRONT_COLUMNS, rows,
                       markdown_table(["Network", "Mean error (%)", "# params", "MACs"], md), notes)


GAP_COLUMNS = ["table", "search", "name", "evaluations", "seeds", "gap_mean", "gap_ci", "measured_mean",
               "true_hypervolume"]


def gap_table(gap: FrontGap, stem: str) -> ReportTable:
    """Per search on the table and count of statistics.report_counts: mean ± 95% CI over seeds of the gap."""
    rows, md = [], []
    for f in gap.fronts:
        for n in report_counts(f.search):
            gaps = [gap.gap_at(r, n) for r in f.runs]
            mean, half = mean_ci(gaps)
            rows.append({"table": gap.name, "search": f.search.label, "name": f.search.name, "evaluations": n,
                         "seeds": len(gaps), "gap_mean": mean, "gap_ci": half,
                         "measured_mean": gap.true_hypervolume - mean, "true_hypervolume": gap.true_hypervolume})
            md.append([marked_label(f.search), _searched(f), n, len(gaps), mean_ci_text(gaps, HV_DIGITS)])
    notes = [f"Gap: the hypervolume of the true front of table `{gap.name}` ({gap.true_hypervolume:.4f}) minus that "
             "of the front a seed found, its networks measured with the table's mean errors over its seeds (and "
             "the table's parameter counts): >= 0, and 0 only when the found networks dominate all the true front "
             "does. A count is shown when every seed of the search reached it."]
    if any(not f.search.finished for f in gap.fronts):
        notes.append(UNFINISHED_NOTE)
    return ReportTable(stem, f"Hypervolume gap to the true front of table `{gap.name}` (mean ± 95% CI over "
                       "seeds)", GAP_COLUMNS, rows,
                       markdown_table(["Search", "Minimised", "Evaluations", "Seeds", "Gap"], md), notes)
