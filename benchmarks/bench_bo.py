"""Seconds per Bayesian-optimisation suggestion with 190-200 observed points (target: median <= 1 s on
2 CPU cores), split into GP fit and acquisition (candidates, EI, local moves).

    python benchmarks/bench_bo.py                 # 3 searches of 200 on the landscape, default config
    python benchmarks/bench_bo.py --seeds 5 --workers 4

Every suggestion of a real search is timed (BayesianOptimization.timings, the figures the logbook gets);
the ones made while the GP held 190-199 successful points are summarised. The load average is printed
because the 2 cores may be shared.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import torch  # noqa: E402
from strategy_loop import best_error, run_strategy  # noqa: E402

from era_deap.search.strategy import make_strategy  # noqa: E402
from era_deap.settings import search_config_from  # noqa: E402
from era_deap.space.space import default_space  # noqa: E402
from era_deap.training.objectives import landscape  # noqa: E402


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1, help="evaluations in flight (kriging believer)")
    args = parser.parse_args(argv)
    space = default_space()
    config = search_config_from({"name": "bench", "strategy": {"kind": "bayesian_optimization"}}).strategy
    print(f"BO suggestion time, default config ({config.random_candidates} random candidates, "
          f"{config.local_candidates} incumbents' neighbourhoods, {config.acquisition_steps} EI moves, "
          f"L-BFGS <= {config.fit_steps} iterations warm-started), landscape objective, "
          f"{args.workers} in flight")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, torch "
          f"{torch.__version__}, load average before {os.getloadavg()[0]:.1f}")
    window = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        strategy = make_strategy(space, config, seed)
        history = run_strategy(strategy, space, landscape, args.budget, workers=args.workers)
        timings = [t for t in strategy.timings if 190 <= t["gp_points"] < 200]
        window += timings
        print(f"seed {seed}: {time.perf_counter() - start:.0f} s for {args.budget} evaluations, best "
              f"{best_error(history):.2f}; at 190-199 points median suggestion "
              f"{statistics.median(t['suggest_seconds'] for t in timings):.3f} s", flush=True)
    print(f"load average after {os.getloadavg()[0]:.1f}")
    print(f"{len(window)} suggestions at 190-199 observed points:")
    print("| part | median s | p90 s | max s |")
    print("|---|---|---|---|")
    for part in ("suggest_seconds", "fit_seconds", "acquisition_seconds"):
        values = [t[part] for t in window]
        print(f"| {part.removesuffix('_seconds')} | {statistics.median(values):.3f} | "
              f"{percentile(values, 0.9):.3f} | {max(values):.3f} |")
    verdict = "meets" if statistics.median(t["suggest_seconds"] for t in window) <= 1.0 else "MISSES"
    print(f"target median <= 1 s: {verdict}")


if __name__ == "__main__":
    main()
