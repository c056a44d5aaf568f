"""`era search CONFIG [--out DIR] [--seed S] [--budget N] [--workers N] [--scheduler ADDR] [--resume | --fresh]`."""
from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from ..api.configs import load_config

if TYPE_CHECKING:
    import argparse
    import os
    from collections.abc import Sequence

    from ..search.failures import FailureCluster
    from ..settings import SearchConfig

EXIT_ABORTED = 1
EXIT_SIGNAL = {2: 130, 15: 143}  # SIGINT, SIGTERM


def configured(args: argparse.Namespace) -> SearchConfig:
    """The config file with the command line's overrides applied (the budget apart: run_search applies
    the resume rule to it)."""
    config = load_config(args.config, seed=args.seed, workers=args.workers)
    if args.scheduler is not None:
        config.evaluator.executor = args.scheduler
        config.evaluator.check(_FlagWhere("--scheduler"))
    return config


class _FlagWhere:
    def __init__(self, flag):
        self.flag = flag

    def fail(self, key, expected, given):
        from ..config import ConfigError
        raise ConfigError(f"{self.flag}: expected {expected}, got {given!r}")


def run_search(args: argparse.Namespace) -> int:
    from ..api.runs import run_search as search
    from ..search.run import Interrupted, SearchAborted
    from ..search.safe_write import WriteFailed
    config = configured(args)
    out = Path(args.out) if args.out else Path("runs") / config.name
    command = " ".join(shlex.quote(a) for a in ["era", *sys.argv[1:]])
    try:
        run = search(config, out, resume=args.resume, fresh=args.fresh, progress=not args.no_progress,
                     budget=args.budget, command=command,
                     log=lambda line: print(f"era search: {line}", file=sys.stderr, flush=True))
    except SearchAborted as exc:
        print(f"era search: stopped: {exc}", file=sys.stderr)
        return EXIT_ABORTED
    except WriteFailed as exc:
        print(f"era search: error: {exc}. Evaluations finished before this are safe in "
              f"{out / 'journal.jsonl'}; make room (or fix permissions) and continue with --resume",
              file=sys.stderr)
        return EXIT_ABORTED
    except Interrupted as exc:
        print(f"era search: interrupted ({exc}); in-flight evaluations are marked interrupted. "
              f"Continue with: era search {shlex.quote(args.config)} --out {shlex.quote(str(out))} --resume",
              file=sys.stderr)
        return EXIT_SIGNAL.get(exc.signum, 130)
    from ..search.failures import failure_clusters
    print(summary_line(run.summary, out, failure_clusters(run.evaluations)))
    return 0


def summary_line(summary: dict, out: str | os.PathLike, clusters: Sequence[FailureCluster] = ()) -> str:
    """One line with the counts of summary.json: trained (those that failed in training by status),
    invalid genomes (spent budget, never trained), cache hits, why it stopped, the best; and the gene
    values its failures cluster at (`clusters`, search/failures.py), which bias a comparison."""
    failed = summary["failed"]
    failures = f"{sum(failed.values())} failed: " + ", ".join(f"{k} {v}" for k, v in failed.items()) \
        if failed else "none failed"
    best = summary["best"]
    line = f"best {best['error']:.2f}% {best['key']}" if best else "no successful evaluation"
    from ..search.failures import cluster_warning
    warning = cluster_warning(clusters)
    return (f"{summary['name']}: {summary['trained']} trained ({failures}), {summary['invalid']} invalid "
            f"(never trained), {summary['cached']} cached; stopped: {summary['stop_reason']}; {line}; run dir {out}"
            + (f"; warning: {warning}" if warning else ""))
