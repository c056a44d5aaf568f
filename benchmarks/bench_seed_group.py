"""Seeds as groups vs one seed at a time: the benchmark build's speed-up, measured side by side.

    python benchmarks/bench_seed_group.py [--networks 8] [--epochs 12] [--seeds 3]

Random networks of the quick space (the table's), digits, the table's schedule, one thread. For each
network the S seeds train once one after another with `train` and once together with `train_seeds`
(in alternating order, so drift in machine load hits both); prints each network's seconds and the
ratio of the totals.
"""
from __future__ import annotations

import argparse
import os
import random
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402

from era_deap.settings import DatasetConfig, TrainingConfig  # noqa: E402
from era_deap.space import load_space, to_arch  # noqa: E402
from era_deap.training.data import load_dataset  # noqa: E402
from era_deap.training.seed_group import train_seeds  # noqa: E402
from era_deap.training.train import train  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dataset = load_dataset(DatasetConfig(name="digits"), 0, "cpu")
    schedule = TrainingConfig(epochs=args.epochs, batch_size=64, lr=0.05, lr_milestones=[0.75])
    space = load_space(ROOT / "configs" / "quick" / "space.yaml")
    rng = random.Random(0)
    seeds = tuple(range(args.seeds))
    one, group = 0.0, 0.0
    print(f"{args.networks} random networks of the quick space, {args.seeds} seeds, {args.epochs} epochs, one thread")
    for i in range(args.networks):
        arch = to_arch(space.sample_unique(rng))
        timings = {}
        for how in (("one", "group") if i % 2 == 0 else ("group", "one")):
            started = time.perf_counter()
            if how == "one":
                for seed in seeds:
                    train(arch, dataset, schedule, "cpu", seed)
            else:
                train_seeds(arch, dataset, schedule, "cpu", seeds)
            timings[how] = time.perf_counter() - started
        one, group = one + timings["one"], group + timings["group"]
        print(f"  {arch['block']:<10} {arch['sections']} f{arch['filters']} u{arch['filter_update']} "
              f"g{arch['group_size']}: one by one {timings['one']:6.2f} s, grouped {timings['group']:6.2f} s "
              f"({timings['one'] / timings['group']:.2f}x)")
    print(f"total: one by one {one:.1f} s, grouped {group:.1f} s; grouped is {one / group:.2f}x faster "
          f"({group / one:.2f} of the time)")


if __name__ == "__main__":
    main()
