"""`era compare A.yaml B.yaml [...] --seeds 0-19 [--out DIR] [--jobs J]`: paired seeds, one verdict."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def run_compare(args: argparse.Namespace) -> int:
    from ..api.compare import compare
    if len(args.configs) < 2:
        args.parser.error("argument CONFIG: expected two or more search configs (the baseline first), got "
                          f"{len(args.configs)}")
    first, second, *more = args.configs
    verdict = compare(first, second, args.seeds, args.out, variants=more, budget=args.budget, jobs=args.jobs,
                      fresh=args.fresh,
                      unit="epochs" if args.epochs else "evaluations",
                      log=lambda line: print(line, file=sys.stderr, flush=True))
    print(verdict.text)
    print(f"(written to {verdict.path}; `era report {verdict.path.parent}` draws the runs)")
    return 0
