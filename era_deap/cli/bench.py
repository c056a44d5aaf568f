"""`era bench build|info`: build a benchmark table, describe one."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path


def run_build(args) -> int:
    from ..bench.build import TABLE, run_build as build
    from ..bench.build_config import load_build_config
    from .search import add_import_paths
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
    state = "complete" if header["complete"] else f"partial ({header['networks_built']:,} of {header['networks_total']:,} networks)"
    print(f"{out / TABLE}: {state}")
    return 0


def run_info(args) -> int:
    from ..bench.summary import describe_table
    from ..bench.table import Table, shipped
    names = [args.table] if args.table else shipped()
    if not names:
        print("no benchmark table is installed; build one with `era bench build CONFIG`")
        return 0
    for i, name in enumerate(names):
        print(("\n" if i else "") + describe_table(Table.load(name)))
    return 0
