"""`era train`: full training of one architecture (thesis A.3), e.g. the best genome of a search.

The genome comes from the genome flags (checked against `--space`, else the `--config`'s space), or
from a search run: `--from RUN_DIR [--rank K]` takes the run's K-th best successful network and the
run's own saved config (RUN_DIR/config.yaml) and space. Settings come from that config's
`evaluator.final` schedule and `evaluator.dataset` (split seeded by the config's `seed`), or without
a config from the full-schedule defaults on `digits`; flags override both. The result is printed (or
`--json`) and, with `--out DIR`, written to DIR/final.json with the learning curve, which the report
reads for the thesis's table 1.

`--from RUN_DIR --rank K --repeats N` trains nothing fully: it retrains the run's K best networks at
search fidelity (`evaluator.training`) with N seeds each and prints each one's mean error and spread
next to the error the search measured, to show how much of a ranking is evaluation noise.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from ..config import ConfigError, to_mapping
from ..search import rundir
from ..search.rundir import RunDirectory
from ..search.safe_write import WriteFailed, write_atomic
from ..settings import DatasetConfig, full_training_defaults
from ..space.architecture import depth
from ..space.genome import individual, to_arch
from ..training.data import load_dataset
from ..training.evaluate import classify_failure
from ..training.result import DIVERGED, ERROR
from ..training.train import resolve_device, train

if TYPE_CHECKING:
    import argparse
    import os

    from ..settings import SearchConfig
    from ..space.genome import Individual
    from ..space.space import SearchSpace

EXIT_FAILED = 1


GENOME_FLAGS = ("block", "sections", "filters", "filter_update", "group_size")


def run_train(args: argparse.Namespace) -> int:
    from .main import genome_from_args, search_config_of
    _check_flags(args)
    if args.from_run:
        config, space, ranked = run_networks(args.from_run)
        rank = args.rank or 1
        if rank > len(ranked):
            raise ConfigError(f"--rank: expected at most {len(ranked)} (the successful networks of "
                              f"{args.from_run}), got {rank}")
        if args.repeats:
            return _run_repeats(args, config, space, ranked[:rank])
        genome, found = ranked[rank - 1]
    else:
        config = search_config_of(args)
        space, genome = genome_from_args(args.parser, args)
        found = None
    arch, key = to_arch(genome), space.key(genome)
    dataset_config, training, split_seed, config_device = _settings(args, config)
    device = _device(args.device or config_device)
    dataset = load_dataset(dataset_config, split_seed, device)
    try:
        record = train(arch, dataset, training, device, args.seed, progress=not args.no_progress)
    except Exception as exc:
        failure = classify_failure(exc)
        if failure["status"] == ERROR:
            raise   # not the network's fault: a bug keeps its traceback
        print(f"era train: {key}: {_failure_line(failure, exc, device)}", file=sys.stderr)
        return EXIT_FAILED
    result = {"name": args.name or key, "key": key, "arch": arch, "depth": depth(arch), "params": record.params,
              "error": record.error, "error_kind": record.error_kind, "epochs": record.epochs,
              "seconds": record.seconds,
              "train_images_per_second": record.images_per_second, "dataset": dataset_config.name,
              "train_images": record.train_images, "sizes": dataset.sizes(), "seed": args.seed,
              "split_seed": split_seed, "device": str(device), "precision": record.precision, "config": args.config,
              "training": to_mapping(training), "dataset_config": to_mapping(dataset_config),
              "command": " ".join(["era", *sys.argv[1:]]), "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "curve": record.curve}
    if found is not None:
        result.update({"from_run": str(args.from_run), "rank": rank, "search_error": found.error,
                       "config": str(Path(args.from_run) / rundir.CONFIG)})
    if args.out:
        _write_json(Path(args.out) / "final.json", result)
    if args.json:
        print(json.dumps({k: result[k] for k in ("error", "error_kind", "params", "depth", "seconds",
                                                  "train_images_per_second", "epochs", "key", "dataset")}))
    else:
        _print_report(result, dataset)
    return 0


def _check_flags(args) -> None:
    """--from takes the genome, config and space from the run; without it the genome flags are required."""
    given = [f"--{name.replace('_', '-')}" for name in (*GENOME_FLAGS, "space", "config")
             if getattr(args, name) is not None]
    if args.from_run and given:
        args.parser.error(f"argument --from: takes the genome, config and space from {args.from_run}; "
                          f"leave out {', '.join(given)}")
    for flag in ("rank", "repeats"):
        if getattr(args, flag) is not None and not args.from_run:
            args.parser.error(f"argument --{flag}: expected with --from RUN_DIR (a search run), got it without")
    missing = [f"--{name.replace('_', '-')}" for name in GENOME_FLAGS if getattr(args, name) is None]
    if not args.from_run and missing:
        args.parser.error(f"the following arguments are required: {', '.join(missing)} (or --from RUN_DIR)")


def run_networks(run_dir: str | os.PathLike) -> tuple[SearchConfig, SearchSpace,
                                                      list[tuple[Individual, rundir.Evaluation]]]:
    """(the run's config, its space, [(canonical genome, Evaluation)] of its successful networks, best
    first: RunDirectory.ranked_networks, so rank 1 is summary.json's best)."""
    from ..api.configs import add_import_paths
    from ..space.space import load_space
    run = RunDirectory(run_dir)
    path = run.path / rundir.CONFIG
    if not path.is_file():
        raise ConfigError(f"--from {run_dir}: expected a search run directory holding {rundir.CONFIG}, "
                          f"found none")
    add_import_paths(path)   # a plug-in objective beside the run or in the working directory
    config = run.config()
    space = load_space(config.space)
    ranked = [(space.canonical(individual(found.genes)), found) for found in run.ranked_networks()]
    if not ranked:
        raise ConfigError(f"--from {run_dir}: expected a run with a successful evaluation in {rundir.EVALUATIONS}, "
                          f"found none")
    return config, space, ranked


def _settings(args, config, schedule: str = "final"):
    """(dataset config, schedule, split seed, device) from the config (--config, or --from's run) or
    the defaults, then the flags. `schedule`: "final" (full training) or "training" (search fidelity)."""
    if config is not None:
        dataset = dataclasses.replace(config.evaluator.dataset)
        training = dataclasses.replace(getattr(config.evaluator, schedule))
        split_seed, device = config.seed, config.evaluator.device.split(",")[0]
    else:
        dataset, training, split_seed, device = DatasetConfig(), full_training_defaults(), 0, "auto"
    if args.dataset:
        dataset.name = args.dataset
    if args.data_dir:
        dataset.data_dir = str(Path(args.data_dir).expanduser().resolve())
    if args.train_size:
        dataset.train_size = args.train_size
    if args.epochs:
        training.epochs = args.epochs   # milestones are fractions: they follow
    if args.precision:
        training.precision = args.precision
    return dataset, training, split_seed, device


def _device(spec: str) -> torch.device:
    try:
        device = resolve_device(spec)
    except RuntimeError:
        raise ConfigError(f"--device: expected auto, cpu, cuda or cuda:N, got {spec!r}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {spec}: CUDA is not available on this machine; use --device cpu")
    if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"--device {spec}: this machine has {torch.cuda.device_count()} CUDA device(s)")
    return device


def _failure_line(failure: dict, exc: Exception, device) -> str:
    """One line for a diverged or out-of-memory training, with what to try next."""
    if failure["status"] == DIVERGED:
        return f"{failure['message']}; try a smaller lr in evaluator.final"
    return f"out of memory on {device} ({type(exc).__name__}); try another device or a smaller batch_size"


def _write_json(path: Path, data: dict) -> None:
    """Write atomically (safe_write: fsync, then rename): a reader never sees half a file."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, (json.dumps(data, indent=1) + "\n").encode())
    except (OSError, WriteFailed) as exc:
        error = exc.error if isinstance(exc, WriteFailed) else exc
        raise ConfigError(f"--out {path.parent}: cannot write {path.name}: {error.strerror or error}") from None


def _run_repeats(args, config, space, networks) -> int:
    """Retrain each of `networks` at search fidelity with seeds --seed .. --seed+N-1 (one grouped
    training per network, seed_group.py) and print mean and spread next to the search's error."""
    import statistics

    from ..training.evaluate import Evaluator
    dataset_config, training, split_seed, config_device = _settings(args, config, schedule="training")
    device = _device(args.device or config_device)
    evaluator_config = dataclasses.replace(config.evaluator, dataset=dataset_config, training=training)
    evaluator = Evaluator(evaluator_config, split_seed, device)
    seeds = tuple(range(args.seed, args.seed + args.repeats))
    if not args.json:
        how = f"{training.epochs} epochs on {dataset_config.name}" if config.evaluator.objective_kind.trains \
            else f"objective {config.evaluator.objective}"
        print(f"era train: the {len(networks)} best network(s) of {args.from_run} retrained at search fidelity "
              f"({how}), seeds {seeds[0]}..{seeds[-1]}; errors in %", flush=True)
        print(f"{'rank':>4}  {'network':<28} {'search':>7}  {'mean ± std':>14}  {'min..max':>13}  failed")
    rows = []
    for rank, (genome, found) in enumerate(networks, start=1):
        results = evaluator(to_arch(genome), seeds)
        errors = [r.error for r in results if r.ok]
        failed = [r.status for r in results if not r.ok]
        row = {"rank": rank, "key": space.key(genome), "search_error": found.error, "seeds": list(seeds),
               "errors": [r.error if r.ok else None for r in results], "failed": failed,
               "mean": statistics.fmean(errors) if errors else None,
               "std": statistics.stdev(errors) if len(errors) > 1 else None,
               "min": min(errors, default=None), "max": max(errors, default=None)}
        rows.append(row)
        if not args.json:
            spread = "-" if not errors else f"{row['mean']:.2f}" if row["std"] is None else \
                f"{row['mean']:.2f} ± {row['std']:.2f}"
            extent = f"{row['min']:.2f}..{row['max']:.2f}" if errors else "-"
            print(f"{rank:>4}  {row['key']:<28} {found.error:>7.2f}  {spread:>14}  {extent:>13}  "
                  f"{', '.join(failed) or '-'}", flush=True)
    summary = {"from_run": str(args.from_run), "fidelity": "search", "dataset": dataset_config.name,
               "training": to_mapping(training), "split_seed": split_seed, "device": str(device), "networks": rows,
               "command": " ".join(["era", *sys.argv[1:]]), "finished": time.strftime("%Y-%m-%dT%H:%M:%S")}
    if args.out:
        _write_json(Path(args.out) / "repeats.json", summary)
    if args.json:
        print(json.dumps({k: summary[k] for k in ("from_run", "dataset", "networks")}))
    else:
        print("± is the standard deviation over the seeds: networks whose errors differ by less than about "
              "that are not told apart by the one training each that the search gave them")
    return 0


def _print_report(result: dict, dataset) -> None:
    sizes, kind = result["sizes"], result["error_kind"]
    if kind == "test":
        note = ""
    elif dataset.has_test:
        note = " (use_validation_data is false: the test part is not used)"
    else:
        note = f" ({result['dataset']} has no test split)"
    rows = [("network", f"{result['name']} (depth {result['depth']}, {result['params']:,} params)"),
            *([("from run", f"{result['from_run']}, rank {result['rank']} (search error "
                            f"{result['search_error']:.2f}%)")] if "from_run" in result else []),
            ("dataset", f"{result['dataset']}: {result['train_images']:,} training images, "
                        f"{sizes['validation']:,} validation, {sizes['test']:,} test"),
            ("training", f"{result['epochs']} epochs on {result['device']} ({result['precision']})"),
            (f"{kind} error", f"{result['error']:.2f}%{note}"),
            ("seconds", f"{result['seconds']:.1f}"),
            ("train images/s", f"{result['train_images_per_second']:,.0f}")]
    for label, value in rows:
        print(f"{label + ':':<18}{value}")
