"""`era search CONFIG [--out DIR] [--seed S] [--budget N] [--workers N] [--scheduler ADDR] [--resume | --fresh]`."""
from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from ..settings import load_search_config, replace

EXIT_ABORTED = 1
EXIT_SIGNAL = {2: 130, 15: 143}  # SIGINT, SIGTERM


def add_import_paths(config_path) -> None:
    """A user's own operators and objectives may live beside the config or in the working directory."""
    for directory in (str(Path(config_path).resolve().parent), os.getcwd()):
        if directory not in sys.path:
            sys.path.insert(0, directory)


def configured(args):
    """The config file with the command line's overrides applied."""
    add_import_paths(args.config)
    config = load_search_config(args.config)
    changes = {k: getattr(args, k) for k in ("seed", "budget") if getattr(args, k) is not None}
    if changes:
        config = replace(config, **changes)
    if args.workers is not None:
        config.evaluator.workers = args.workers
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


def run_search(args) -> int:
    from ..config import ConfigError
    from ..search.run import Interrupted, SearchAborted
    from ..search.run import run_search as search
    from ..search.rundir import RunDirectory
    from ..search.safe_write import WriteFailed
    config = configured(args)
    out = Path(args.out) if args.out else Path("runs") / config.name
    budget = RunDirectory(out).saved_budget() if args.resume else None
    if budget is not None and args.budget is None and budget > config.budget:
        # A plain --resume keeps the budget the run last ran with (a --budget N may have grown it past
        # the file's); a budget raised in the config file still grows the run.
        config = replace(config, budget=budget)
    if budget is not None and args.budget is not None and args.budget < budget:
        raise ConfigError(f"--budget: expected at least the run's budget {budget} ({out / 'config.yaml'}; a "
                          f"budget may only grow on resume, and without --budget the run keeps its own), "
                          f"got {args.budget}")
    command = " ".join(shlex.quote(a) for a in ["era", *sys.argv[1:]])
    try:
        summary = search(config, out, resume=args.resume, fresh=args.fresh, progress=not args.no_progress,
                         command=command, log=lambda line: print(f"era search: {line}", file=sys.stderr, flush=True))
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
    print(summary_line(summary, out))
    return 0


def summary_line(summary: dict, out) -> str:
    """One line with the counts of summary.json: trained (those that failed in training by status),
    invalid genomes (spent budget, never trained), cache hits, why it stopped, the best."""
    failed = summary["failed"]
    failures = f"{sum(failed.values())} failed: " + ", ".join(f"{k} {v}" for k, v in failed.items()) \
        if failed else "none failed"
    best = summary["best"]
    line = f"best {best['error']:.2f}% {best['key']}" if best else "no successful evaluation"
    return (f"{summary['name']}: {summary['trained']} trained ({failures}), {summary['invalid']} invalid "
            f"(never trained), {summary['cached']} cached; stopped: {summary['stop_reason']}; {line}; run dir {out}")
