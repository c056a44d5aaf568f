"""`era train`: full training of one architecture (thesis A.3), e.g. the best genome of a search.

Settings come from `--config FILE`'s `evaluator.final` schedule and `evaluator.dataset` (split seeded
by the config's `seed`), or without a config from the full-schedule defaults on `digits`; flags
override both. The result is printed (or `--json`) and, with `--out DIR`, written to DIR/final.json
with the learning curve, which the report reads for the thesis's table 1.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import torch

from ..config import ConfigError, to_mapping
from ..training.data import load_dataset
from ..space.genome import to_arch
from ..space.architecture import depth
from ..settings import DatasetConfig, full_training_defaults, load_search_config
from ..search.safe_write import WriteFailed, write_atomic
from ..training.evaluate import classify_failure
from ..training.result import DIVERGED, ERROR
from ..training.train import resolve_device, train

EXIT_FAILED = 1


def run_train(args) -> int:
    from .main import genome_from_args
    space, genome = genome_from_args(args.parser, args)
    arch, key = to_arch(genome), space.key(genome)
    dataset_config, training, split_seed, config_device = _settings(args)
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
              "error": record.error, "error_kind": record.error_kind, "epochs": record.epochs, "seconds": record.seconds,
              "train_images_per_second": record.images_per_second, "dataset": dataset_config.name,
              "train_images": record.train_images, "sizes": dataset.sizes(), "seed": args.seed,
              "split_seed": split_seed, "device": str(device), "precision": record.precision, "config": args.config,
              "training": to_mapping(training), "dataset_config": to_mapping(dataset_config),
              "command": " ".join(["era", *sys.argv[1:]]), "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
              "curve": record.curve}
    if args.out:
        _write_json(Path(args.out) / "final.json", result)
    if args.json:
        print(json.dumps({k: result[k] for k in ("error", "error_kind", "params", "depth", "seconds",
                                                  "train_images_per_second", "epochs", "key", "dataset")}))
    else:
        _print_report(result, dataset)
    return 0


def _settings(args):
    """(dataset config, schedule, split seed, device) from --config or the defaults, then the flags."""
    if args.config:
        config = load_search_config(args.config)
        dataset = dataclasses.replace(config.evaluator.dataset)
        training = dataclasses.replace(config.evaluator.final)
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


def _print_report(result: dict, dataset) -> None:
    sizes, kind = result["sizes"], result["error_kind"]
    if kind == "test":
        note = ""
    elif dataset.has_test:
        note = " (use_validation_data is false: the test part is not used)"
    else:
        note = f" ({result['dataset']} has no test split)"
    rows = [("network", f"{result['name']} (depth {result['depth']}, {result['params']:,} params)"),
            ("dataset", f"{result['dataset']}: {result['train_images']:,} training images, "
                        f"{sizes['validation']:,} validation, {sizes['test']:,} test"),
            ("training", f"{result['epochs']} epochs on {result['device']} ({result['precision']})"),
            (f"{kind} error", f"{result['error']:.2f}%{note}"),
            ("seconds", f"{result['seconds']:.1f}"),
            ("train images/s", f"{result['train_images_per_second']:,.0f}")]
    for label, value in rows:
        print(f"{label + ':':<18}{value}")
