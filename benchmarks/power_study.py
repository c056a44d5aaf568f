"""How many seeds does a comparison on the benchmark table need? A power study with era-deap's own runs.

Each config (a search on a table objective) runs for every seed of a pool (`--seeds 1000-1199`, seeds
the shipped profiles never use), in-process through `era_deap.search.run.run_search`, as `./run_all.sh`
runs it (resumable: a finished seed is read, not run again). From each run: the regret at `--budget`
evaluations (the table mean of the network it returns, the one with the best observed error, minus the
table's optimum) and the best observed error. Then, for each pair of configs and each seed count n, the
power of the report's test (two-sided Mann-Whitney U at alpha 0.05, `scipy.stats.mannwhitneyu`): the
share of `--resamples` draws of n seeds from each pool (without replacement) that the test calls
different. The pool's own difference (medians, Vargha-Delaney A) is printed beside it: the effect the
power is for.

    python benchmarks/power_study.py configs/bench/regularized_evolution.yaml \\
        configs/bench/random_search.yaml --seeds 1000-1199 --out runs/power --jobs 2
    python benchmarks/power_study.py ... --observe seed      # the same with one-seed observations

`--observe` overrides `evaluator.observe` of every config (`mean`: one value per network, the mean over
the table's seeds; `seed`: evaluation seed s reads training seed s mod S). Prints one power table per
pair and measure; `--json` writes the per-seed values and the powers.
"""
from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import random
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from era_deap.settings import load_search_config, replace  # noqa: E402

SEED_COUNTS = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100)


def seed_range(text: str) -> list[int]:
    first, _, last = text.partition("-")
    return list(range(int(first), int(last or first) + 1))


def configured(path: str, seed: int, observe: str | None, budget: int):
    config = replace(load_search_config(path), seed=seed, budget=budget)
    if observe:
        config = replace(config, evaluator=dataclasses.replace(config.evaluator, observe=observe))
    return config


def run_one(task: tuple) -> tuple[str, int, dict]:
    """Run (or read) one seed of one config; its regret and best observed error at `budget`."""
    path, seed, observe, budget, out = task
    import contextlib
    import io

    from era_deap.bench.table import Table
    from era_deap.search.run import run_search
    config = configured(path, seed, observe, budget)
    run_dir = Path(out) / f"{Path(path).stem}-{observe or 'config'}" / f"seed-{seed}"
    summary = run_dir / "summary.json"
    done = summary.exists() and json.loads(summary.read_text()).get("finished")
    if not done:
        with contextlib.redirect_stdout(io.StringIO()):
            run_search(config, run_dir, resume=(run_dir / "journal.jsonl").exists())
    table = Table.load(config.evaluator.table)
    means, (_, optimum) = table.mean_errors(), table.optimum()
    rows = _rows(run_dir / "evaluations.csv")[:budget]
    best = min((r for r in rows if r["status"] == "ok"), key=lambda r: float(r["error"]))
    return path, seed, {"regret": means[best["key"]] - optimum, "best_observed": float(best["error"]),
                        "best_key": best["key"]}


def _rows(path: Path) -> list[dict]:
    import csv
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def power(a: list, b: list, n: int, resamples: int, rng: random.Random, alpha: float = 0.05) -> float:
    """Share of draws of n values from each pool whose two-sided Mann-Whitney p is below alpha."""
    hits = 0
    for _ in range(resamples):
        x, y = rng.sample(a, n), rng.sample(b, n)
        if len(set(x) | set(y)) > 1 and stats.mannwhitneyu(x, y, alternative="two-sided").pvalue < alpha:
            hits += 1
    return hits / resamples


def vargha_delaney(a: list, b: list) -> float:
    """P(a value of `a` is lower than one of `b`), ties half: 0.5 is no difference."""
    u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic   # counts a > b
    return 1.0 - u / (len(a) * len(b))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="search configs on a table objective")
    parser.add_argument("--seeds", default="1000-1199", help="the pool of seeds, FIRST-LAST (default 1000-1199)")
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument("--observe", choices=["mean", "seed"], help="override evaluator.observe")
    parser.add_argument("--out", default="runs/power", help="run directories (resumable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--seed-counts", default=",".join(map(str, SEED_COUNTS)))
    parser.add_argument("--resamples", type=int, default=2000)
    parser.add_argument("--json", help="write the per-seed values and the powers here")
    args = parser.parse_args()
    seeds = seed_range(args.seeds)
    tasks = [(c, s, args.observe, args.budget, args.out) for c in args.configs for s in seeds]
    values: dict = {c: {} for c in args.configs}
    with ProcessPoolExecutor(args.jobs) as pool:
        for done, (config, seed, measures) in enumerate(pool.map(run_one, tasks, chunksize=4), 1):
            values[config][seed] = measures
            if done % 50 == 0 or done == len(tasks):
                print(f"  {done}/{len(tasks)} runs", file=sys.stderr, flush=True)
    counts = [int(n) for n in args.seed_counts.split(",") if int(n) <= len(seeds)]
    rng = random.Random(0)
    result = {"seeds": [seeds[0], seeds[-1]], "budget": args.budget, "observe": args.observe,
              "values": values, "power": []}
    print(f"power of a two-sided Mann-Whitney test at alpha 0.05 ({args.resamples} draws of n seeds from "
          f"pools of {len(seeds)}; budget {args.budget}; observe {args.observe or 'as configured'})")
    for a, b in itertools.combinations(args.configs, 2):
        for measure in ("regret", "best_observed"):
            x = [values[a][s][measure] for s in seeds]
            y = [values[b][s][measure] for s in seeds]
            powers = {n: power(x, y, n, args.resamples, rng) for n in counts}
            needed = next((n for n in counts if powers[n] >= 0.8), None)
            print(f"\n{Path(a).stem} vs {Path(b).stem}, {measure}: means {np.mean(x):.3f} vs {np.mean(y):.3f}, "
                  f"medians {np.median(x):.3f} vs {np.median(y):.3f}, A = P(first lower) "
                  f"{vargha_delaney(x, y):.2f}; 80% power at n = {needed or f'> {counts[-1]}'}")
            print("  n      " + " ".join(f"{n:>5}" for n in counts))
            print("  power  " + " ".join(f"{powers[n]:>5.2f}" for n in counts))
            result["power"].append({"a": a, "b": b, "measure": measure, "mean_a": float(np.mean(x)),
                                    "mean_b": float(np.mean(y)), "vargha_delaney_a": vargha_delaney(x, y),
                                    "power": powers, "n_for_80": needed})
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
