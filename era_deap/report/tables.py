"""The thesis's tables from run records (era_deap.report.runs_read), each as Markdown (thesis layout) and CSV
(one row per search, exact numbers: what a script or a test reads back).

    table1  final training: baselines and each search's best architecture trained fully (thesis 1)
    table2  best architecture per search at search fidelity: layers, params, validation error (thesis 2)
    table10 genes of the best architecture of each evolutionary search (thesis A.4, table 10)
    table11 the same for the baselines: random search, local search, BO (thesis A.4, table 11)

"Best" over several seeds of a search is the best over all of them; the seed is named. The comparisons
between searches are in comparison.py, the benchmark table in benchmark.py; they share `Table`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..search.outputs import MISSING, markdown_table, write_csv
from ..space.architecture import cardinality
from .curves import best_evaluation


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
        return write_csv(Path(out_dir) / f"{self.stem}.csv", self.columns, self.rows)


# --- formatting -----------------------------------------------------------------------------------

markdown = markdown_table


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


def marked_label(search) -> str:
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
        md.append([marked_label(s), best.depth if best and best.depth is not None else MISSING,
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
    return Table(stem, title, GENE_COLUMNS, rows, markdown(["Parameter", *(marked_label(s) for s in searches)], body),
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
