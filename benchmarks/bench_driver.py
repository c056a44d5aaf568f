"""Driver benchmarks: overhead per search with an instant objective, and parallel workers.

    python benchmarks/bench_driver.py [--budget 200] [--kinds evolution,...] [--sleep-budget 40]

Prints measured figures; nothing is asserted here (speed targets are checked by reading this output).
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from era_deap.search.run import run_search
from era_deap.search.rundir import RunDirectory
from era_deap.settings import search_config_from

EVOLUTIONARY = ("evolution", "regularized_evolution", "crossover_evolution")


def config(kind, budget, objective, workers, seed=0):
    return search_config_from({"name": kind, "seed": seed, "budget": budget, "strategy": {"kind": kind},
                               "evaluator": {"objective": objective, "workers": workers}})


def overhead(kind, budget, scratch):
    """Wall time of a whole search whose objective costs ~nothing (in-process evaluation)."""
    from era_deap.training.objectives import landscape
    run_search(config(kind, 5, "era_deap.training.objectives:landscape", 0), scratch / f"warm-{kind}")  # imports
    start = time.perf_counter()
    summary = run_search(config(kind, budget, "era_deap.training.objectives:landscape", 0), scratch / kind)
    wall = time.perf_counter() - start
    # The objective's own time, measured separately, is subtracted.
    import random

    from era_deap.space.genome import to_arch
    from era_deap.space.space import default_space
    space, rng = default_space(), random.Random(0)
    archs = [to_arch(space.sample(rng)) for _ in range(budget)]
    t = time.perf_counter()
    for a in archs:
        landscape(a)
    objective = time.perf_counter() - t
    return summary["trained"], wall - objective


def steady_rate(run_dir, workers):
    elapsed = [e.elapsed for e in RunDirectory(run_dir).evaluations()]
    # Results after the first `workers` ones: start-up (spawning, imports) excluded.
    return (len(elapsed) - workers) / (elapsed[-1] - elapsed[workers - 1]), elapsed[-1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--kinds", default=",".join(EVOLUTIONARY))
    parser.add_argument("--sleep-budget", type=int, default=40)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="era-bench-"))
    try:
        print(f"driver overhead, {args.budget} unique evaluations, instant objective (in-process):")
        for kind in args.kinds.split(","):
            trained, seconds = overhead(kind, args.budget, scratch)
            print(f"  {kind:<24} {trained} evaluations  {seconds:6.2f} s  ({1000 * seconds / trained:.1f} ms each)")
        print(f"\nparallel workers, objective sleeping 0.2 s, {args.sleep_budget} evaluations:")
        rates = {}
        for workers in (1, 2):
            start = time.perf_counter()
            run = scratch / f"sleep-{workers}"
            run_search(config("regularized_evolution", args.sleep_budget,
                              "era_deap.training.objectives:sleepy_landscape",
                              workers), run)
            wall = time.perf_counter() - start
            rates[workers], last = steady_rate(run, workers)
            print(f"  workers {workers}: {rates[workers]:5.2f} evaluations/s steady state "
                  f"(whole run {wall:.1f} s wall incl. worker start-up)")
        print(f"  speed-up of 2 workers over 1: {rates[2] / rates[1]:.2f}x")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
