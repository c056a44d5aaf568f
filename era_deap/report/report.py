"""`era report RUN_DIR... [--out DIR] [--window N]`: the thesis's figures and tables from run directories.

RUN_DIR may be a run, a search holding seed-k/ runs, a profile (runs/quick) or runs/ itself: every run
dir (evaluations.csv) and final-training dir (final.json) up to three levels below is used. The output
goes to --out, or by default to report/ inside the deepest directory common to the RUN_DIRs
(`era report runs/quick` -> runs/quick/report). Everything is recomputed from evaluations.csv and
final.json; rerunning gives the same files, and outputs no longer produced are removed.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..search import rundir
from . import bench_figures, benchmark, comparison, page, pareto_section, plots, runs_read, tables
from .figure4 import figure4
from .figure5 import figure5

FIGURES = ("fig4", "fig5_evaluations", "fig5_time")
TABLE_STEMS = ("table1", "table2", "table10", "table11", "rank_sum")
OUTPUTS = ({f"{f}.{ext}" for f in FIGURES for ext in ("png", "svg")} | {f"{t}.csv" for t in TABLE_STEMS}
           | {"tables.md", "rank_sum.md", "report.md"})
# Benchmark outputs carry the table's name when a report covers several tables.
BENCH_OUTPUT = re.compile(r"(regret|top1|benchmark|regret_rank_sum|benchmark_epochs|regret_rank_sum_epochs)"
                          r"(-[\w.-]+)?\.(png|svg|csv)")


@dataclass
class Bench:
    """One benchmark table's part of the report."""
    data: benchmark.Benchmark
    figures: dict            # stem -> [png, svg]
    table: tables.Table
    rank_table: tables.Table | None     # rank-sum tests on the regret (several seeds only)
    rank_reason: str                    # why they are left out
    # at equal training epochs, when some search on the table is multi-fidelity
    epochs_table: tables.Table | None = None
    epochs_rank_table: tables.Table | None = None
    epochs_rank_reason: str = ""


@dataclass
class Built:
    """Everything written, for report.md (page.py)."""
    window: int
    figures: dict = field(default_factory=dict)         # stem -> [png, svg]
    tables: list = field(default_factory=list)          # tables 1, 2, 10, 11
    rank_table: tables.Table | None = None
    rank_reason: str = ""
    benches: list = field(default_factory=list)         # [Bench]
    bench_reasons: list = field(default_factory=list)   # why a search on a table is left out
    pareto: pareto_section.Part | None = None           # when some run minimised several objectives


def run_report(args) -> int:
    window = getattr(args, "window", None) or rundir.RECENT_WINDOW
    if window < 1:
        raise ConfigError(f"--window: expected a positive number of evaluations, got {window}")
    collection = runs_read.load(args.run_dirs)
    out = Path(args.out) if args.out else default_out_dir(args.run_dirs)
    for path in write_report(collection, out, window):
        print(path)
    return 0


def default_out_dir(paths) -> Path:
    """report/ in the deepest directory common to the RUN_DIRs."""
    try:
        common = os.path.commonpath([os.path.normpath(p) for p in paths])
    except ValueError:   # relative and absolute mixed
        common = os.path.commonpath([os.path.abspath(p) for p in paths])
    return Path(common or ".") / "report"


def write_report(collection, out: Path, window: int = rundir.RECENT_WINDOW) -> list:
    """Write figures, tables and report.md into `out`; returns the paths written, in order."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    searches = collection.searches
    built, written = Built(window), []
    if searches:
        unit = plots.time_unit(max((e.elapsed for r in collection.runs for e in r.evaluations), default=0.0))
        palette = plots.colours([s.key for s in searches])
        figures = {"fig4": figure4(searches, palette, unit),
                   "fig5_evaluations": figure5(searches, palette, "evaluations", unit, window),
                   "fig5_time": figure5(searches, palette, "time", unit, window)}
        for stem, fig in figures.items():
            built.figures[stem] = plots.save(fig, out, stem)
            written += built.figures[stem]
        benches, built.bench_reasons = benchmark.benchmarks(searches)
        for bench in benches:
            suffix = f"-{bench.name}" if len(benches) > 1 else ""
            saved = {f"regret{suffix}": plots.save(bench_figures.regret_figure(bench, palette), out, f"regret{suffix}"),
                     f"top1{suffix}": plots.save(bench_figures.top_share_figure(bench, palette), out, f"top1{suffix}")}
            rank_table, rank_reason = benchmark.regret_rank_sum(bench, f"regret_rank_sum{suffix}")
            part = Bench(bench, saved, benchmark.benchmark_table(bench, f"benchmark{suffix}"), rank_table,
                         rank_reason)
            if bench.multi_fidelity:
                stem = f"regret-epochs{suffix}"
                saved[stem] = plots.save(bench_figures.regret_epochs_figure(bench, palette), out, stem)
                part.epochs_table = benchmark.epochs_table(bench, f"benchmark_epochs{suffix}")
                part.epochs_rank_table, part.epochs_rank_reason = benchmark.regret_rank_sum_epochs(
                    bench, f"regret_rank_sum_epochs{suffix}")
            built.benches.append(part)
            written += [p for paths in saved.values() for p in paths]
        built.pareto = pareto_section.build(searches, [b.data for b in built.benches], palette, out)
        written += built.pareto.written if built.pareto else []
    built.tables = [t for t in [tables.table1(collection)] if t is not None]
    if searches:
        built.tables += [tables.table2(searches), *tables.gene_tables(searches)]
    built.rank_table, built.rank_reason = comparison.rank_sum(searches)
    bench_tables = [t for b in built.benches for t in (b.table, b.epochs_table) if t is not None]
    every_table = built.tables + bench_tables + (built.pareto.every_table if built.pareto else [])
    for table in every_table:
        written.append(table.write_csv(out))
    written.append(_write(out / "tables.md", "# Tables\n\n" + "\n".join(t.section() for t in every_table)))
    if built.rank_table is not None:
        written.append(built.rank_table.write_csv(out))
        written.append(_write(out / "rank_sum.md", "# Rank-sum tests\n\n" + built.rank_table.section()))
    written += [t.write_csv(out) for b in built.benches for t in (b.rank_table, b.epochs_rank_table)
                if t is not None]
    if built.pareto and built.pareto.rank_table is not None:
        written.append(built.pareto.rank_table.write_csv(out))
    written.append(_write(out / "report.md", page.report_markdown(collection, out, built)))
    _remove_stale(out, written)
    return written


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _remove_stale(out: Path, written) -> None:
    # Only our own file names: a report dir may hold the user's notes.
    names = {Path(p).name for p in written}
    ours = OUTPUTS | {p.name for p in out.iterdir()
                      if BENCH_OUTPUT.fullmatch(p.name) or pareto_section.OUTPUT.fullmatch(p.name)}
    for name in ours - names:
        (out / name).unlink(missing_ok=True)
