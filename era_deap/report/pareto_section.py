"""The report's multi-objective part: written when some run minimised several objectives (its saved
config.yaml's `objectives`), and then for every search of the report on the one plane of validation error
against parameters, the single-objective ones included (their front is that of the networks they
evaluated). Files: pareto.png/.svg, hypervolume.png/.svg, pareto_summary.csv, pareto_front.csv,
hypervolume_rank_sum.csv (several seeds), and per benchmark table true_front.csv and pareto_gap.csv
(named -<table> when the runs used several tables). docs/multi_objective.md says how to read them.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import plots
from .pareto import any_multi_objective, logbook_disagreements, search_fronts
from .pareto_figures import hypervolume_figure, pareto_figure
from .pareto_gap import FrontGap
from .pareto_tables import front_table, gap_table, hypervolume_rank_sum, summary_table, true_front_table

OUTPUT = re.compile(r"(pareto|hypervolume)\.(png|svg)|(pareto_summary|pareto_front|hypervolume_rank_sum)\.csv"
                    r"|(true_front|pareto_gap)(-[\w.-]+)?\.csv")
MAX_DISAGREEMENTS_SHOWN = 3


@dataclass
class Part:
    fronts: list                                       # [pareto.SearchFronts], the report's order
    gaps: list                                         # [pareto_gap.FrontGap], one per benchmark table
    out: Path
    figures: dict = field(default_factory=dict)        # stem -> [png, svg]
    tables: list = field(default_factory=list)         # the summary and the fronts
    table_tables: list = field(default_factory=list)   # per benchmark table: [true front, gap]
    rank_table: object = None
    rank_reason: str = ""

    @property
    def written(self) -> list:
        return [p for paths in self.figures.values() for p in paths]

    @property
    def every_table(self) -> list:
        """Every table but the rank-sum tests (for tables.md and the CSV files)."""
        return self.tables + [t for pair in self.table_tables for t in pair]


def build(searches, benches, palette: dict, out: Path) -> Part | None:
    """The part's figures (saved into `out`) and tables (for the caller to write); None when no run
    minimised several objectives. `benches`: benchmark.benchmarks' tables with their searches."""
    if not any_multi_objective(searches):
        return None
    fronts = [search_fronts(s) for s in searches]
    part = Part(fronts, [FrontGap(b, fronts) for b in benches], Path(out))
    part.figures = {"pareto": plots.save(pareto_figure(fronts, palette, part.gaps), out, "pareto"),
                    "hypervolume": plots.save(hypervolume_figure(fronts, palette, part.gaps), out, "hypervolume")}
    part.tables = [summary_table(fronts), front_table(fronts, part.gaps)]
    for gap in part.gaps:
        suffix = f"-{gap.name}" if len(part.gaps) > 1 else ""
        part.table_tables.append([true_front_table(gap, f"true_front{suffix}"), gap_table(gap, f"pareto_gap{suffix}")])
    part.rank_table, part.rank_reason = hypervolume_rank_sum(fronts)
    return part


def markdown(part: Part) -> list:
    """report.md's section, as a list of paragraphs."""
    parts = ["## Multi-objective: Pareto fronts and hypervolume\n", _intro(part.fronts),
             _image("Pareto fronts", part.figures["pareto"][0]), _pareto_caption(part),
             _image("Hypervolume against models evaluated", part.figures["hypervolume"][0]),
             _hypervolume_caption(part)]
    parts += [t.section() for t in part.tables]
    parts.append(part.rank_table.section() if part.rank_table is not None else part.rank_reason + "\n")
    for tables in part.table_tables:
        parts += [t.section() for t in tables]
    if part.gaps:
        on_table = {f.search.key for gap in part.gaps for f in gap.fronts}
        left = [f.search.label for f in part.fronts if f.search.key not in on_table]
        if left:
            parts.append(f"Not on a benchmark table, so without a gap: {', '.join(left)}.\n")
    notes = _disagreements(part.fronts, part.out)
    if notes:
        parts += ["Notes:\n", "\n".join(f"- {n}" for n in notes) + "\n"]
    return parts


def _intro(fronts) -> str:
    searched = "; ".join(f"{f.search.label}: {', '.join(f.objectives)}" for f in fronts)
    text = ("Every search on one plane: validation error against trainable parameters, both minimised. A search "
            "that minimised the error only gets a front too, that of the networks it evaluated, so it is measured "
            f"the same way. Minimised (the saved `config.yaml`'s `objectives`): {searched}.")
    other = [f.search.label for f in fronts if f.objectives not in (["error"], ["error", "params"])]
    if other:
        text += (f" {', '.join(other)} minimised other costs as well or instead; here it is measured on error x "
                 "params like the others (its own front over all its objectives is `front` in each run's "
                 "`summary.json`).")
    return text + "\n"


def _pareto_caption(part) -> str:
    several = any(len(f.runs) > 1 for f in part.fronts)
    text = ("Faint points: every successfully evaluated network (cached repeats left out) of every seed, in its "
            "search's colour. Bold: " + ("each search's median seed's front (the seed with the median final "
                                         "hypervolume, the lower of the middle two; named in the legend), "
                                         "not the union or the attainment surface of the seeds. " if several
                                         else "each search's front. ")
            + "A front is drawn as the staircase it attains: each network holds its error to the right until one "
            "with more parameters and a lower error takes over. Errors are the ones the search observed (one "
            "training seed per network).")
    if part.gaps:
        text += (" Dashed black: the true front of the benchmark table, every network at its mean error over the "
                 "table's training seeds; a search's observed front may dip below it by a lucky seed.")
    return text + "\n"


def _hypervolume_caption(part) -> str:
    text = ("(a) the hypervolume of the front found so far, mean over seeds with a 95% t-interval band (drawn "
            "where two or more seeds contribute), against models evaluated; failed and cached evaluations carry "
            "it forward. Where searches coincide (random search and the evolutions start from the same random "
            "networks for a seed) the one listed last is drawn on top. The hypervolume is `search/fitness.py`'s, the same for every run and every strategy: "
            "error / 100 and log10(params) scaled from [1, 9] to [0, 1], reference point (1.1, 1.1), computed by "
            "moocore (DEAP's own indicator); for a run that minimised [error, params] it equals the `hypervolume` "
            "of its logbook.")
    if part.gaps:
        text += (" Further panels, one per benchmark table: the gap, the true front's hypervolume minus that of "
                 "the found front with its networks measured at the table's mean errors (as the regret measures "
                 "the best network): it is >= 0, and 0 only when the networks found dominate all the true front "
                 "does (drawn at the dotted floor of the log axis).")
    return text + "\n"


def _disagreements(fronts, out: Path) -> list:
    lines = []
    for f in fronts:
        for r in f.runs:
            found = logbook_disagreements(r)
            if found:
                shown = "; ".join(found[:MAX_DISAGREEMENTS_SHOWN])
                hidden = len(found) - MAX_DISAGREEMENTS_SHOWN
                more = f" (and {hidden} more)" if hidden > 0 else ""
                where = os.path.relpath(Path(r.run.path).resolve(), out.resolve())
                lines.append(f"`{where}`: logbook.json's hypervolume disagrees with the one recomputed from "
                             f"evaluations.csv: {shown}{more}")
    return lines


def _image(alt: str, path: Path) -> str:
    return f"![{alt}]({Path(path).name})\n"
