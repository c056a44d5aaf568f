"""Mean ± sd best-of-budget per strategy over seeds, on the cheap synthetic landscape (known optimum).

    python benchmarks/compare_strategies.py                      # budget 100, seeds 0-9, default configs
    python benchmarks/compare_strategies.py --budget 200 --seeds 20 --workers 4

Each search runs through `tests/strategy_loop.py` (the driver's semantics without its files: canonical
cache, budget of unique evaluations, failures as statuses). Strategies use their default configs, as
the thesis protocol does: population 50, random_samples 50 / starts 10, 9 initial points.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from strategy_loop import best_error, run_strategy  # noqa: E402

from era_deap.search.strategy import make_strategy  # noqa: E402
from era_deap.settings import search_config_from  # noqa: E402
from era_deap.space.space import default_space  # noqa: E402
from era_deap.training import objectives  # noqa: E402

KINDS = ("random_search", "local_search", "bayesian_optimization", "regularized_evolution", "evolution",
         "crossover_evolution")


def strategy_config(kind: str, **overrides):
    """A validated strategy config, defaults filled in as config loading does."""
    return search_config_from({"name": kind, "strategy": {"kind": kind, **overrides}}).strategy


def best_of_budget(kind: str, seeds, budget: int, objective=objectives.landscape, space=None, workers=1,
                   **overrides) -> list[float]:
    """The best error each seed's search reached within `budget` unique evaluations."""
    space = space or default_space()
    config = strategy_config(kind, **overrides)
    return [best_error(run_strategy(make_strategy(space, config, seed), space, objective, budget,
                                    seed_base=1000 * seed, workers=workers))
            for seed in seeds]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="evaluations in flight (asks before tells)")
    parser.add_argument("--objective", default="landscape", help="a function of era_deap.training.objectives")
    parser.add_argument("--kinds", default=",".join(KINDS))
    args = parser.parse_args(argv)
    objective = getattr(objectives, args.objective)
    print(f"{args.objective}, default space, budget {args.budget}, seeds 0-{args.seeds - 1}, "
          f"{args.workers} in flight; optimum {objectives.OPTIMUM_ERROR}")
    print("| strategy | mean ± sd best error | median | reached optimum | seconds |")
    print("|---|---|---|---|---|")
    for kind in args.kinds.split(","):
        start = time.perf_counter()
        best = best_of_budget(kind, range(args.seeds), args.budget, objective, workers=args.workers)
        hits = sum(b <= objectives.OPTIMUM_ERROR + 1e-9 for b in best)
        sd = statistics.stdev(best) if len(best) > 1 else 0.0
        print(f"| {kind} | {statistics.mean(best):.2f} ± {sd:.2f} | {statistics.median(best):.2f} | "
              f"{hits}/{len(best)} | {time.perf_counter() - start:.0f} |", flush=True)


if __name__ == "__main__":
    main()
