"""`era rundir`: what run_all.sh asks of a run directory, answered by search/rundir.py's RunDirectory.
Hidden (not among the listed commands): a helper of the script, not a user's command.

    era rundir state CONFIG RUN_DIR [--seed S]   "finished" when RUN_DIR holds a finished run of CONFIG
                                                 (with --seed: of that seed), else "partial"
    era rundir train-flags RUN_DIR               the `era train` flags of a finished run's best
                                                 architecture, one per line (paths may hold spaces)
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse


def run_state(args: argparse.Namespace) -> int:
    from ..search.rundir import RunDirectory
    from ..settings import load_search_config, replace
    try:
        config = load_search_config(args.config)
    except Exception:    # noqa: BLE001  any config the search cannot load: the search, run next, says why
        print("partial")
        return 0
    if args.seed is not None:
        config = replace(config, seed=args.seed)
    print("finished" if RunDirectory(args.run_dir).is_finished(config) else "partial")
    return 0


def run_train_flags(args: argparse.Namespace) -> int:
    from ..search.rundir import RunDirectory
    for flag in RunDirectory(args.run_dir).best_train_flags():
        print(flag)
    return 0
