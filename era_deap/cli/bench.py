"""`era bench build|info`: build a benchmark table, describe one."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def run_build(args: argparse.Namespace) -> int:
    from ..api.configs import add_import_paths
    from ..bench.build import TABLE
    from ..bench.build import run_build as build
    from ..bench.build_config import load_build_config
    add_import_paths(args.config)
    config = load_build_config(args.config)
    if args.workers is not None:
        config.evaluator.workers = args.workers
    if args.scheduler is not None:
        config.evaluator.executor = args.scheduler
    out = Path(args.out) if args.out else Path("runs") / "bench" / config.name
    command = " ".join(shlex.quote(a) for a in ["era", *sys.argv[1:]])
    try:
        header = build(config, out, progress=not args.no_progress, command=command,
                       log=lambda line: print(line, file=sys.stderr, flush=True))
    except KeyboardInterrupt:
        print(f"era bench build: interrupted; every finished network is in {out / 'journal.jsonl'}. "
              f"Continue with the same command", file=sys.stderr)
        return 130
    state = ("complete" if header["complete"]
             else f"partial ({header['networks_built']:,} of {header['networks_total']:,} networks)")
    print(f"{out / TABLE}: {state}")
    return 0


def run_info(args: argparse.Namespace) -> int:
    from ..bench.summary import describe_table
    from ..bench.table import Table, shipped
    names = [args.table] if args.table else shipped()
    if not names:
        print("no benchmark table is installed; build one with `era bench build CONFIG`")
        return 0
    for i, name in enumerate(names):
        print(("\n" if i else "") + describe_table(Table.load(name)))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from ..bench.table import Table
    from ..bench.verify import verify
    table = Table.load(args.table)
    print(f"era bench verify: {args.sample} networks of table {table.name}, retrained live "
          f"(grouped as the build trained them, then one seed at a time as a search does); errors in % "
          f"for seeds {table.seeds}")
    result = verify(table, args.sample, seed=args.seed, device=args.device)
    ident = ("identical" if result["grouped_identical"]
             else f"max difference {result['grouped_max_abs_difference']:.2f} points")
    print(f"grouped retraining vs table: {ident}")
    print(f"one seed at a time vs table: mean |difference| {result['single_mean_abs_difference']:.2f} points "
          f"(median {result['single_median_abs_difference']:.2f}); the table's own seed-to-seed std: median "
          f"{result['seed_std_median']:.2f} points")
    if result["spearman_means"] is not None:
        print(f"Spearman between the table's and the one-by-one mean errors: {result['spearman_means']:.3f}")
    paired = result["grouped_vs_single"]
    if paired is not None:
        low, high = paired["ci95"]
        p = "n/a" if paired["wilcoxon_p"] is None else f"{paired['wilcoxon_p']:.3g}"
        print(f"one seed at a time minus grouped, paired over {paired['pairs']} (network, seed) pairs retrained "
              f"here: mean {paired['mean']:+.2f} points (95% CI {low:+.2f} to {high:+.2f}), Wilcoxon p {p}; "
              f"pairs' sd {paired['sd']:.2f}, mean |difference| {paired['mean_abs']:.2f}")
    return 0


def run_analyse(args: argparse.Namespace) -> int:
    from ..bench.analysis import analyse
    from ..bench.analysis_page import write_outputs
    from ..bench.table import Table
    table = Table.load(args.table)
    out = Path(args.out) if args.out else Path("runs") / "bench" / "analysis" / table.name
    analysis = analyse(table)
    written = write_outputs(analysis, out)
    c = analysis.curves
    state = "complete" if c.complete else f"PARTIAL, {c.built:,} of {c.total:,} networks"
    print(f"era bench analyse: table {table.name} ({state}); {c.n:,} networks x {len(c.seeds)} seeds x "
          f"{c.epochs} epochs")
    for r in analysis.panels:
        rho, depth = analysis.fidelity["rows"][r - 1]["mean"], analysis.bias["rows"][r - 1]["depth"]
        print(f"  epoch {r:>3}: Spearman with the last epoch {rho['rho']:.3f}; rank shift vs depth "
              f"{depth['rho']:+.3f} (p {depth['p']:.2g})")
    print(f"{written[0]}  ({len(written)} files in {out})")
    return 0
