"""Tables of the multi-objective part (pareto.py, pareto_gap.py), each as Markdown and CSV:

    pareto_summary        per search: what it minimised, seeds, final hypervolume over seeds, median seed
    pareto_front          each search's median seed's front (by final hypervolume): genes, error, params, MACs
    hypervolume_rank_sum  Mann-Whitney U, Holm, Vargha-Delaney A on the hypervolume at a common count
    true_front[-T]        the true front of benchmark table T (mean error over its seeds, params)
    pareto_gap[-T]        per search on table T: the hypervolume gap to the true front at 50/100/200 evaluations
"""
from __future__ import annotations

import math
import statistics

from ..space.architecture import cardinality, complexity
from .benchmark import report_counts
from .comparison import common_count
from .pareto import dataset_shape
from ..search.outputs import mean_ci, mean_ci_text
from .stats import pairwise
from .tables import MISSING, UNFINISHED_NOTE, Table, fmt_error, fmt_params, markdown, marked_label

GENE_FIELDS = ["block", "s1", "s2", "s3", "s4", "filters", "filter_update", "group_size"]
HV_DIGITS = 4


def _hv(value) -> str:
    return MISSING if value is None or math.isnan(value) else f"{value:.{HV_DIGITS}f}"


def _searched(fronts) -> str:
    return ", ".join(fronts.objectives)


# --- summary --------------------------------------------------------------------------------------

SUMMARY_COLUMNS = ["search", "name", "objectives", "seeds", "evaluations_min", "evaluations_max",
                   "hypervolume_mean", "hypervolume_ci", "hypervolume_median", "median_seed", "median_front_size"]


def summary_table(all_fronts) -> Table:
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
        md.append([marked_label(f.search), _searched(f), len(f.runs), evaluated, mean_ci_text(volumes, HV_DIGITS),
                   _hv(statistics.median(volumes)),
                   MISSING if median is None else f"{median.run.seed if median.run.seed is not None else '—'}: "
                                                  f"{len(median.front)} networks"])
    notes = ["Hypervolume of each seed's front (error x params, normalised as in `search/fitness.py`: error / 100, "
             "log10(params) between 1 and 9; reference point 1.1, 1.1) after its last evaluation; mean ± 95% "
             "t-interval over seeds. A search that minimised the error only is measured on the same plane, from "
             "the networks it evaluated. Median seed: by that hypervolume (the lower of the middle two)."]
    if any(not f.search.finished for f in all_fronts):
        notes.append(UNFINISHED_NOTE)
    return Table("pareto_summary", "Hypervolume per search (error x params)", SUMMARY_COLUMNS, rows,
                 markdown(["Search", "Minimised", "Seeds", "Evaluations", "Hypervolume: mean ± 95% CI",
                           "Median", "Median seed: front"], md), notes)


# --- fronts ---------------------------------------------------------------------------------------

FRONT_COLUMNS = ["search", "name", "seed", "index", "key", *GENE_FIELDS, "cardinality", "error", "params", "macs",
                 "table_mean_error"]


def front_table(all_fronts, gaps=()) -> Table:
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
                         "key": n.key, **dict(zip(GENE_FIELDS, e.genes)), "cardinality": cardinality(e.arch),
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
    return Table("pareto_front", "Pareto fronts: each search's median seed (error x params)", FRONT_COLUMNS, rows,
                 markdown(header, md), notes)


# --- rank-sum tests on the hypervolume ------------------------------------------------------------

RANK_COLUMNS = ["search_a", "search_b", "evaluations", "n_a", "n_b", "median_a", "median_b", "u_statistic",
                "p_value", "p_holm", "vargha_delaney_a"]


def hypervolume_rank_sum(all_fronts) -> tuple:
    """Pairwise tests on each seed's hypervolume after N evaluations, N the smallest count every compared
    seed reached; (None, reason) with fewer than two searches of two or more seeds. A higher hypervolume
    is better, so stats.pairwise (lower is better) is given the negated values: its p is the same, its A
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
    seeds_md = markdown(["Search", "Seeds", f"Hypervolume at {n}: mean ± 95% CI", "Median", "Range"],
                        [[marked_label(f.search), len(samples[f.search.label]),
                          mean_ci_text(samples[f.search.label], HV_DIGITS), _hv(statistics.median(samples[f.search.label])),
                          f"{_hv(min(samples[f.search.label]))}–{_hv(max(samples[f.search.label]))}"]
                         for f in several])
    pairs_md = markdown(["Search A", "Search B", "Median A", "Median B", "U", "p", "p (Holm)",
                         "A: P(A higher)"], pairs)
    notes = [f"Every seed is compared at **{n} evaluations**, the smallest count every compared seed reached: the "
             f"hypervolume of its front after its first {n} evaluations. Two-sided Mann–Whitney U "
             "(`scipy.stats.mannwhitneyu`), U of search A's hypervolumes; p (Holm): adjusted for the number of "
             "pairs. A (Vargha–Delaney): the probability that a seed of search A ends with a higher hypervolume "
             "than a seed of search B, ties counting half; 0.5 is no difference."]
    if any(not f.search.finished for f in several):
        notes.append(UNFINISHED_NOTE)
    return Table("hypervolume_rank_sum", f"Pairwise rank-sum tests on the hypervolume (per seed at {n} evaluations)",
                 RANK_COLUMNS, rows, seeds_md + "\n" + pairs_md, notes), ""


# --- a benchmark table: its true front and the gap ------------------------------------------------

TRUE_FRONT_COLUMNS = ["table", "key", *GENE_FIELDS, "mean_error", "params", "macs"]


def true_front_table(gap, stem: str) -> Table:
    rows, md = [], []
    table = gap.bench.table
    for n in gap.true_front:
        arch = table.networks[n.key]["arch"]
        genes = [arch["block"], *arch["sections"], arch["filters"], arch["filter_update"], arch["group_size"]]
        rows.append({"table": gap.name, "key": n.key, **dict(zip(GENE_FIELDS, genes)), "mean_error": n.error,
                     "params": n.params, "macs": n.macs})
        md.append([f"`{n.key}`", fmt_error(n.error), fmt_params(n.params), fmt_params(n.macs)])
    notes = [f"Every network of table `{gap.name}` ({len(gap.points):,} with a mean error) at its mean validation "
             f"error over the table's training seeds against its parameters; these {len(gap.true_front)} are the "
             f"ones no other network dominates. Hypervolume {gap.true_hypervolume:.4f}."]
    return Table(stem, f"The true Pareto front of table `{gap.name}`", TRUE_FRONT_COLUMNS, rows,
                 markdown(["Network", "Mean error (%)", "# params", "MACs"], md), notes)


GAP_COLUMNS = ["table", "search", "name", "evaluations", "seeds", "gap_mean", "gap_ci", "measured_mean",
               "true_hypervolume"]


def gap_table(gap, stem: str) -> Table:
    """Per search on the table and count of benchmark.report_counts: mean ± 95% CI over seeds of the gap."""
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
    return Table(stem, f"Hypervolume gap to the true front of table `{gap.name}` (mean ± 95% CI over seeds)",
                 GAP_COLUMNS, rows, markdown(["Search", "Minimised", "Evaluations", "Seeds", "Gap"], md), notes)
