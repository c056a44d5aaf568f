"""The thesis's tables from run records (era_deap.report.runs_read), each as Markdown (thesis layout) and CSV
(one row per search, exact numbers: what a script or a test reads back).

    table1  final training: baselines and each search's best architecture trained fully (thesis 1)
    table2  best architecture per search at search fidelity: layers, params, validation error (thesis 2)
    table10 genes of the best architecture of each evolutionary search (thesis A.4, table 10)
    table11 the same for the baselines: random search, local search, BO (thesis A.4, table 11)
    rank_sum pairwise Mann-Whitney U tests on per-seed best-of-run errors (several seeds only)

"Best" over several seeds of a search is the best over all of them; the seed is named.
"""
from __future__ import annotations

import csv
import itertools
import statistics
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats

from ..space.architecture import cardinality
from .runs_read import best_evaluation

MISSING = "—"


@dataclass
class Table:
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
        path = Path(out_dir) / f"{self.stem}.csv"
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=self.columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(self.rows)
        return path


# --- formatting -----------------------------------------------------------------------------------

def markdown(header, rows) -> str:
    def cell(value):
        return str(value).replace("|", "\\|").replace("\n", " ")
    lines = ["| " + " | ".join(map(cell, header)) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fmt_params(n) -> str:
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


def fmt_error(x) -> str:
    return MISSING if x is None else f"{x:.2f}"


def fmt_sections(genes) -> str:
    return "[" + ",".join(str(g) for g in genes[1:5]) + "]"


# --- best per search ------------------------------------------------------------------------------

def search_best(search):
    """(run, evaluation) of the search's best successful evaluation over its seeds, or (None, None)."""
    candidates = [(run, best_evaluation(run.evaluations)) for run in search.runs]
    candidates = [(r, e) for r, e in candidates if e is not None]
    if not candidates:
        return None, None
    return min(candidates, key=lambda re: re[1].error)   # min keeps the first seed on ties


def _label(search) -> str:
    return search.label + ("" if search.finished else " †")


UNFINISHED_NOTE = "† unfinished: the best so far of a search that has not finished."


# --- table 2 --------------------------------------------------------------------------------------

TABLE2_COLUMNS = ["search", "name", "kind", "layers", "params", "error", "key", "index", "seed", "run",
                  "seeds", "evaluated", "failed", "finished"]


def table2(searches) -> Table:
    rows, md = [], []
    for s in searches:
        run, best = search_best(s)
        evaluated = sum(len(r.evaluations) for r in s.runs)
        failed = sum(sum(r.failed.values()) for r in s.runs)
        rows.append({"search": s.label, "name": s.name, "kind": s.kind,
                     "layers": best.depth if best else "", "params": best.params if best else "",
                     "error": best.error if best else "", "key": best.key if best else "",
                     "index": best.index if best else "", "seed": run.seed if run else "",
                     "run": str(run.path) if run else "", "seeds": len(s.runs), "evaluated": evaluated,
                     "failed": failed, "finished": int(s.finished)})
        where = MISSING if best is None else f"#{best.index}" + (f" (seed {run.seed})" if len(s.runs) > 1 else "")
        md.append([_label(s), best.depth if best and best.depth is not None else MISSING,
                   fmt_params(best.params if best else None), fmt_error(best.error if best else None),
                   where, f"{evaluated} ({failed} failed)"])
    notes = [UNFINISHED_NOTE] if any(not s.finished for s in searches) else []
    return Table("table2", "Table 2: validation error at search fidelity of the best architecture per search",
                 TABLE2_COLUMNS, rows,
                 markdown(["Model/Origin", "# layers", "# params", "Error (%)", "Found at evaluation",
                           "Evaluated"], md), notes)


# --- tables 10 and 11 -----------------------------------------------------------------------------

GENE_COLUMNS = ["search", "name", "kind", "key", "block", "s1", "s2", "s3", "s4", "filters", "filter_update",
                "group_size", "cardinality", "depth", "params", "error"]


def gene_tables(searches) -> list:
    """Table 10 (evolutionary searches) and table 11 (baselines); a table with no search is left out."""
    evolutionary = [s for s in searches if s.evolutionary]
    baselines = [s for s in searches if not s.evolutionary]
    tables = []
    if evolutionary:
        tables.append(_gene_table("table10", "Table 10: the best architecture found by each evolutionary search",
                                  evolutionary))
    if baselines:
        tables.append(_gene_table("table11", "Table 11: the best architecture found by random search, "
                                  "local search and Bayesian optimisation", baselines))
    return tables


def _gene_table(stem, title, searches) -> Table:
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
    return Table(stem, title, GENE_COLUMNS, rows, markdown(["Parameter", *(_label(s) for s in searches)], body),
                 notes)


# --- table 1 --------------------------------------------------------------------------------------

TABLE1_COLUMNS = ["model", "search", "seed", "layers", "params", "error", "error_kind", "epochs", "seconds",
                  "key", "path"]


def table1(collection) -> Table | None:
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
    return Table("table1", "Table 1: error after full training (best architecture of each search, baselines)",
                 TABLE1_COLUMNS, rows,
                 markdown(["Model/Origin", "# layers", "# params", "Error (%)", "Measured on", "Epochs"], md))


# --- rank-sum tests -------------------------------------------------------------------------------

RANK_SUM_COLUMNS = ["search_a", "search_b", "n_a", "n_b", "median_a", "median_b", "u_statistic", "p_value",
                    "p_holm"]


def seed_bests(search) -> list:
    """Best-of-run error of each seed that had a success, in seed order."""
    bests = [best_evaluation(r.evaluations) for r in search.runs]
    return [b.error for b in bests if b is not None]


def rank_sum(searches) -> tuple[Table | None, str]:
    """Pairwise two-sided Mann-Whitney U (Wilcoxon rank-sum) tests between searches on their per-seed
    best errors, with Holm-adjusted p-values; (None, reason) with fewer than two multi-seed searches."""
    eligible = [s for s in searches if len(seed_bests(s)) >= 2]
    if len(eligible) < 2:
        return None, ("Rank-sum tests skipped: they need at least two searches with two or more seeds "
                      f"each (found {len(eligible)}). Run a search with several seeds to compare strategies.")
    rows = []
    for a, b in itertools.combinations(eligible, 2):
        xa, xb = seed_bests(a), seed_bests(b)
        test = stats.mannwhitneyu(xa, xb, alternative="two-sided")
        rows.append({"search_a": a.label, "search_b": b.label, "n_a": len(xa), "n_b": len(xb),
                     "median_a": float(statistics.median(xa)), "median_b": float(statistics.median(xb)),
                     "u_statistic": float(test.statistic), "p_value": float(test.pvalue)})
    for row, adjusted in zip(rows, holm([r["p_value"] for r in rows])):
        row["p_holm"] = adjusted
    seeds_md = markdown(["Search", "Seeds", "Best error per seed (%)", "Mean ± 95% CI (%)"],
                        [[_label(s), len(seed_bests(s)), ", ".join(fmt_error(e) for e in seed_bests(s)),
                          _mean_ci_text(seed_bests(s))] for s in eligible])
    pairs_md = markdown(["Search A", "Search B", "n A", "n B", "Median A (%)", "Median B (%)", "U", "p", "p (Holm)"],
                        [[r["search_a"], r["search_b"], r["n_a"], r["n_b"], fmt_error(r["median_a"]),
                          fmt_error(r["median_b"]), f"{r['u_statistic']:g}", f"{r['p_value']:.3g}",
                          f"{r['p_holm']:.3g}"] for r in rows])
    notes = ["Two-sided Mann–Whitney U (Wilcoxon rank-sum) test, `scipy.stats.mannwhitneyu`, on the best "
             "error of each seed. p (Holm): adjusted for the number of pairs. With few seeds the smallest "
             "attainable p is large (3 vs 3 seeds: 0.1), so read these as a guide, not a verdict."]
    if any(not s.finished for s in eligible):
        notes.append(UNFINISHED_NOTE)
    return Table("rank_sum", "Pairwise rank-sum tests between searches (best error per seed)", RANK_SUM_COLUMNS,
                 rows, seeds_md + "\n" + pairs_md, notes), ""


def holm(pvalues) -> list:
    """Holm–Bonferroni adjusted p-values, in the input order."""
    order = sorted(range(len(pvalues)), key=lambda i: pvalues[i])
    adjusted, running = [0.0] * len(pvalues), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(pvalues) - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def mean_ci(values, confidence: float = 0.95):
    """Mean and half-width of the Student-t confidence interval of the mean (`scipy.stats.t.interval`)
    over the last axis of `values`, nan left out: a list gives two numbers, a points × samples array two
    arrays (figure 5's band: plots.mean_band). The mean is nan with no value, the half-width with fewer
    than two."""
    data = np.asarray(values, dtype=float)
    n = np.sum(~np.isnan(data), axis=-1)
    with warnings.catch_warnings():   # empty and one-value slices give nan, as said above
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(data, axis=-1)
        sem = np.nanstd(data, axis=-1, ddof=1) / np.sqrt(n)
    # t.interval around 0 with scale 1 is ±t; times the standard error (possibly 0: all values equal)
    _, t = stats.t.interval(confidence, np.maximum(n - 1, 1))
    return mean, np.where(n >= 2, t * sem, np.nan)[()]


def _mean_ci_text(values) -> str:
    mean, half = mean_ci(values)
    return f"{mean:.2f} ± {half:.2f}"
