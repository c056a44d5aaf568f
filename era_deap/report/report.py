"""`era report RUN_DIR... [--out DIR] [--window N]`: the thesis's figures and tables from run directories.

RUN_DIR may be a run, a search holding seed-k/ runs, a profile (runs/quick) or runs/ itself: every run
dir (evaluations.csv) and final-training dir (final.json) up to three levels below is used (runs.py). The
output goes to --out, or by default to report/ inside the deepest directory common to the RUN_DIRs
(`era report runs/quick` -> runs/quick/report). Everything is recomputed from evaluations.csv and
final.json; rerunning gives the same files, and outputs no longer produced are removed.

This module decides what is written: the figures (figures.py, saved by search/outputs.py), the tables
(tables.py) as CSV and tables.md, rank_sum.md, and report.md (page.py), which finds each by name.
The multi-objective part is written when some run minimised several objectives (its saved config.yaml's
`objectives`), and then for every search of the report on the one plane of validation error against
parameters: pareto.png/.svg, hypervolume.png/.svg, pareto_summary.csv, pareto_front.csv,
hypervolume_rank_sum.csv (several seeds), and per benchmark table true_front.csv and pareto_gap.csv
(named -<table> when the runs used several tables). docs/multi_objective.md says how to read them.
"""
from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..bench.summary import resolution
from ..errors import ConfigError
from ..search import rundir
from ..search.outputs import save_figure
from . import figures, page, runs, statistics, tables
from .pareto import FrontGap, any_multi_objective, search_fronts

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterable
    from typing import Protocol

    class HasPath(Protocol):
        """A run as era_deap.load_runs gives it (api/runs.py's Run): its directory is its `path`."""
        path: Path

FIGURES = ("fig4", "fig5_evaluations", "fig5_time")
TABLE_STEMS = ("table1", "table2", "table10", "table11", "rank_sum")
OUTPUTS = ({f"{f}.{ext}" for f in FIGURES for ext in ("png", "svg")} | {f"{t}.csv" for t in TABLE_STEMS}
           | {"tables.md", "rank_sum.md", "report.md"})
# Benchmark outputs carry the table's name when a report covers several tables.
BENCH_OUTPUT = re.compile(r"(regret|top1|benchmark|regret_rank_sum|benchmark_epochs|regret_rank_sum_epochs"
                          r"|measures|measure_tests)"
                          r"(-[\w.-]+)?\.(png|svg|csv)")
PARETO_OUTPUT = re.compile(r"(pareto|hypervolume)\.(png|svg)"
                           r"|(pareto_summary|pareto_front|hypervolume_rank_sum)\.csv"
                           r"|(true_front|pareto_gap)(-[\w.-]+)?\.csv")


@dataclass
class BenchPart:
    """One benchmark table's part of the report."""
    data: statistics.Benchmark
    figures: dict            # "regret", "top1" (and "regret_epochs") -> [png, svg]
    table: tables.ReportTable | None          # None without a single-fidelity search
    rank_table: tables.ReportTable | None     # rank-sum tests on the regret (several seeds only)
    rank_reason: str                          # why they are left out
    measures_table: tables.ReportTable | None = None       # the thesis's measures and exploration
    measure_tests: list = field(default_factory=list)      # [statistics.MeasureTest] at every count
    measure_tests_table: tables.ReportTable | None = None
    measure_tests_reason: str = ""
    resolution: dict = field(default_factory=dict)         # bench.summary.resolution of the table
    # at equal training epochs, when some search on the table is multi-fidelity
    epochs_table: tables.ReportTable | None = None
    epochs_rank_table: tables.ReportTable | None = None
    epochs_rank_reason: str = ""


@dataclass
class ParetoPart:
    """The multi-objective part of the report."""
    fronts: list                                       # [pareto.SearchFronts], the report's order
    gaps: list                                         # [pareto.FrontGap], one per benchmark table
    out: Path
    figures: dict = field(default_factory=dict)        # "pareto", "hypervolume" -> [png, svg]
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


@dataclass
class Built:
    """Everything written, for report.md (page.py)."""
    window: int
    figures: dict = field(default_factory=dict)         # FIGURES -> [png, svg]
    tables: list = field(default_factory=list)          # tables 1, 2, 10, 11
    rank_table: tables.ReportTable | None = None
    rank_reason: str = ""
    benches: list = field(default_factory=list)         # [BenchPart]
    bench_reasons: list = field(default_factory=list)   # why a search on a table is left out
    pareto: ParetoPart | None = None                    # when some run minimised several objectives


def report(paths: str | os.PathLike | Iterable[str | os.PathLike | HasPath], out: str | os.PathLike | None = None,
           window: int = rundir.RECENT_WINDOW, log: Callable[[str], object] | None = None) -> list[Path]:
    """Write the report of the runs in `paths` (run directories, or folders holding them; one path or
    several) into `out`, by default report/ in the deepest folder they share; returns the paths written,
    report.md last. What `era report` does, and `era_deap.report(...)`. A run directory that cannot be
    read is named in report.md, and passed to `log` (a function of one line) when given."""
    if window < 1:
        raise ConfigError(f"window (--window): expected a positive number of evaluations, got {window}")
    paths = [paths] if isinstance(paths, (str, os.PathLike)) else [getattr(p, "path", p) for p in paths]
    collection = runs.load(paths)
    for line in collection.skipped if log else ():
        log(f"warning: {line}")
    return write_report(collection, Path(out) if out else default_out_dir(paths), window)


def run_report(args: argparse.Namespace) -> int:
    for path in report(args.run_dirs, args.out, getattr(args, "window", None) or rundir.RECENT_WINDOW,
                       log=lambda line: print(f"era report: {line}", file=sys.stderr)):
        print(path)
    return 0


def default_out_dir(paths: Iterable[str | os.PathLike]) -> Path:
    """report/ in the deepest directory common to the RUN_DIRs."""
    try:
        common = os.path.commonpath([os.path.normpath(p) for p in paths])
    except ValueError:   # relative and absolute mixed
        common = os.path.commonpath([os.path.abspath(p) for p in paths])
    return Path(common or ".") / "report"


def write_report(collection: runs.Collection, out: Path, window: int = rundir.RECENT_WINDOW) -> list:
    """Write figures, tables and report.md into `out`; returns the paths written, in order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    searches = collection.searches
    built, written = Built(window), []
    if searches:
        longest = max((e.elapsed for r in collection.runs for e in r.evaluations), default=0.0)
        unit = figures.time_unit(longest)
        palette = figures.colours([s.key for s in searches])
        drawn = {"fig4": figures.figure4(searches, palette, unit),
                 "fig5_evaluations": figures.figure5(searches, palette, "evaluations", unit, window),
                 "fig5_time": figures.figure5(searches, palette, "time", unit, window)}
        for stem, fig in drawn.items():
            built.figures[stem] = save_figure(fig, out, stem)
            written += built.figures[stem]
        benches, built.bench_reasons = statistics.benchmarks(searches)
        for bench in benches:
            suffix = f"-{bench.name}" if len(benches) > 1 else ""
            saved = {"regret": save_figure(figures.regret_figure(bench, palette), out, f"regret{suffix}"),
                     "top1": save_figure(figures.top_share_figure(bench, palette), out, f"top1{suffix}")}
            rank_table, rank_reason = tables.regret_rank_sum(bench, f"regret_rank_sum{suffix}")
            part = BenchPart(bench, saved, tables.benchmark_table(bench, f"benchmark{suffix}"), rank_table,
                             rank_reason, resolution=resolution(bench.table))
            if bench.single_fidelity:
                part.measures_table = tables.measures_table(bench, f"measures{suffix}")
                part.measure_tests = tables.bench_measure_tests(bench)
                part.measure_tests_table, part.measure_tests_reason = tables.measure_tests_table(
                    bench, part.measure_tests, f"measure_tests{suffix}")
            if bench.multi_fidelity:
                saved["regret_epochs"] = save_figure(figures.regret_epochs_figure(bench, palette), out,
                                                     f"regret-epochs{suffix}")
                part.epochs_table = tables.epochs_table(bench, f"benchmark_epochs{suffix}")
                part.epochs_rank_table, part.epochs_rank_reason = tables.regret_rank_sum_epochs(
                    bench, f"regret_rank_sum_epochs{suffix}")
            built.benches.append(part)
            written += [p for paths in saved.values() for p in paths]
        built.pareto = _pareto_part(searches, [b.data for b in built.benches], palette, out)
        written += built.pareto.written if built.pareto else []
    built.tables = [t for t in [tables.table1(collection)] if t is not None]
    if searches:
        built.tables += [tables.table2(searches, [b.data for b in built.benches]),
                         *tables.gene_tables(searches)]
    built.rank_table, built.rank_reason = tables.rank_sum(searches)
    bench_tables = [t for b in built.benches for t in (b.table, b.measures_table, b.epochs_table)
                    if t is not None]
    every_table = built.tables + bench_tables + (built.pareto.every_table if built.pareto else [])
    for table in every_table:
        written.append(table.write_csv(out))
    written.append(_write(out / "tables.md", "# Tables\n\n" + "\n".join(t.section() for t in every_table)))
    if built.rank_table is not None:
        written.append(built.rank_table.write_csv(out))
        written.append(_write(out / "rank_sum.md", "# Rank-sum tests\n\n" + built.rank_table.section()))
    written += [t.write_csv(out) for b in built.benches
                for t in (b.rank_table, b.measure_tests_table, b.epochs_rank_table) if t is not None]
    if built.pareto and built.pareto.rank_table is not None:
        written.append(built.pareto.rank_table.write_csv(out))
    written.append(_write(out / "report.md", page.report_markdown(collection, out, built)))
    _remove_stale(out, written)
    return written


def _pareto_part(searches, benches, palette: dict, out: Path) -> ParetoPart | None:
    """The multi-objective part's figures (saved into `out`) and tables (for the caller to write); None
    when no run minimised several objectives. `benches`: statistics.benchmarks' tables with their searches."""
    if not any_multi_objective(searches):
        return None
    fronts = [search_fronts(s) for s in searches]
    part = ParetoPart(fronts, [FrontGap(b, fronts) for b in benches], Path(out))
    part.figures = {"pareto": save_figure(figures.pareto_figure(fronts, palette, part.gaps), out, "pareto"),
                    "hypervolume": save_figure(figures.hypervolume_figure(fronts, palette, part.gaps), out,
                                               "hypervolume")}
    part.tables = [tables.pareto_summary_table(fronts), tables.pareto_front_table(fronts, part.gaps)]
    for gap in part.gaps:
        suffix = f"-{gap.name}" if len(part.gaps) > 1 else ""
        part.table_tables.append([tables.true_front_table(gap, f"true_front{suffix}"),
                                  tables.gap_table(gap, f"pareto_gap{suffix}")])
    part.rank_table, part.rank_reason = tables.hypervolume_rank_sum(fronts)
    return part


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _remove_stale(out: Path, written) -> None:
    # Only our own file names: a report dir may hold the user's notes.
    names = {Path(p).name for p in written}
    ours = OUTPUTS | {p.name for p in out.iterdir()
                      if BENCH_OUTPUT.fullmatch(p.name) or PARETO_OUTPUT.fullmatch(p.name)}
    for name in ours - names:
        (out / name).unlink(missing_ok=True)
