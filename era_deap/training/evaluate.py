"""The fitness evaluator: one architecture in, one `EvalResult` out, never an exception.

`Evaluator(config, split_seed, device)(arch, seed)` trains the network with the search schedule
(`evaluator.training`) on the run's dataset (loaded once, lazily, reused) and returns the validation
error, or runs a user objective `"package.module:function"` with the same failure handling:

    invalid genome             -> invalid   (never trained)
    MemoryError, CUDA/CPU OOM  -> oom
    NaN/inf loss or objective  -> diverged  (training stops within the epoch)
    any other exception        -> error     (traceback kept in `message`)

KeyboardInterrupt and SystemExit propagate: the driver marks the evaluation interrupted. After a
failure the memory is released, so the next evaluation in the same process trains normally.
torch is imported only for `objective: train`: workers running a cheap objective stay light.
"""
from __future__ import annotations

import gc
import json
import math
import numbers
import os
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any

from ..config import resolve_callable, to_mapping
from ..settings import DatasetConfig, EvaluatorConfig
from ..space.architecture import arch_problem, complexity
from . import result as R

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .data import Dataset


def describe(config: DatasetConfig) -> tuple[tuple, int]:
    """(input shape, class count) of a dataset without loading it (or importing torch)."""
    if config.name == "cifar10":
        return (3, 32, 32), 10
    if config.name == "digits":
        return (1, 8, 8), 10
    return tuple(config.shape), config.num_classes


def load_objective(spec: str) -> Callable[..., Any]:
    """The callable named "package.module:function"; a ConfigError naming evaluator.objective otherwise."""
    return resolve_callable(spec, "evaluator.objective", "'train', 'table' or 'package.module:function'")


class Evaluator:
    """Trains (or scores) architectures for one run: same dataset and split for every candidate."""

    def __init__(self, config: EvaluatorConfig, split_seed: int, device: str = "cpu"):
        self.config, self.split_seed, self.device = config, split_seed, device
        self.objective = make_objective(config)
        self._dataset = None

    @property
    def dataset(self) -> Dataset:
        """The `data.Dataset`, loaded on first use (ConfigError when it cannot be), then kept."""
        if self._dataset is None:
            from .data import load_dataset
            self._dataset = load_dataset(self.config.dataset, self.split_seed, self.device)
        return self._dataset

    def prepare(self) -> "Evaluator":
        """Load the dataset now, so a missing CIFAR-10 folder is one ConfigError before a search starts."""
        if self.objective is None:
            _ = self.dataset
        return self

    def __call__(self, arch: dict, seed: int | Sequence[int],
                 epochs: int | None = None) -> R.EvalResult | list[R.EvalResult]:
        """The EvalResult of `arch` trained (or scored) with `seed`; with a tuple of seeds, a list of
        EvalResults, one per seed (training trains them at once: seed_group.py). `epochs`: stop after
        that many epochs of the search schedule, whose learning-rate drops stay where the full schedule
        has them (a multi-fidelity search's rung; the same thing a table's curve records at that epoch)."""
        if isinstance(seed, (tuple, list)):
            return self.evaluate_seeds(arch, tuple(seed))
        started = time.perf_counter()
        problem = arch_problem(arch)
        if problem:
            return R.EvalResult(R.INVALID, message=problem, worker=self._worker())
        fields = {"worker": self._worker()}
        try:
            info = complexity(arch, *describe(self.config.dataset))
            fields.update(params=info["params"], depth=info["depth"])
            outcome = self._train(arch, seed, epochs) if self.objective is None else self._score(arch, seed, epochs)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a status
            outcome = _failure(exc)
        if self.objective is None or outcome["status"] != R.OK:
            _release_memory(self.device)   # a cheap objective's success skips the ~ms of garbage collection
        # A table's look-up reports the training seconds it stands for; otherwise the wall time counts.
        return R.EvalResult(**{"seconds": time.perf_counter() - started, **fields, **outcome})

    def evaluate_seeds(self, arch: dict, seeds: tuple) -> list:
        if self.objective is not None:
            return [self(arch, seed) for seed in seeds]
        started, cpu_started = time.perf_counter(), time.process_time()
        problem = arch_problem(arch)
        if problem:
            return [R.EvalResult(R.INVALID, message=problem, worker=self._worker()) for _ in seeds]
        fields = {"worker": self._worker()}
        try:
            from .seed_group import train_seeds
            info = complexity(arch, *describe(self.config.dataset))
            fields.update(params=info["params"], depth=info["depth"])
            records = train_seeds(arch, self.dataset, self.config.training, self.device, seeds)
            outcomes = [_failure(r) if isinstance(r, BaseException) else
                        {"status": R.OK, "error": r.error, "curve": r.curve, "images_per_second": r.images_per_second}
                        for r in records]
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - every failure becomes a status (of every seed)
            outcomes = [_failure(exc)] * len(seeds)
        _release_memory(self.device)
        # One seed's share of the group's time: wall, and CPU (the work, unaffected by other load).
        seconds = (time.perf_counter() - started) / len(seeds)
        cpu_seconds = (time.process_time() - cpu_started) / len(seeds)
        return [R.EvalResult(seconds=seconds, cpu_seconds=cpu_seconds, **fields, **outcome) for outcome in outcomes]

    def _train(self, arch: dict, seed: int, epochs: int | None = None) -> dict:
        from .train import train
        record = train(arch, self.dataset, self.config.training, self.device, seed, stop_after=epochs)
        return {"status": R.OK, "error": record.error, "curve": record.curve,
                "images_per_second": record.images_per_second}

    def _score(self, arch: dict, seed: int, epochs: int | None = None) -> dict:
        arch = dict(arch, sections=list(arch["sections"]))
        # Only an objective that takes `epochs` can score a fidelity (a table, a curve objective).
        value = self.objective(arch, seed) if epochs is None else self.objective(arch, seed, epochs=epochs)
        if isinstance(value, dict):
            return self._reported(value)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return {"status": R.ERROR, "message": f"objective {self.config.objective} returned {value!r}, "
                                                  "expected a number (validation error in percent)"}
        if not math.isfinite(value):
            return {"status": R.DIVERGED, "message": f"objective {self.config.objective} returned {value!r}"}
        return {"status": R.OK, "error": float(value)}

    def _reported(self, value: dict) -> dict:
        """An objective's mapping: `error`, and optionally `status`, `message`, `seconds` (training time
        it stands for, as a benchmark table records it) and `curve`."""
        unknown = sorted(set(value) - REPORTED_KEYS)
        if unknown:
            return {"status": R.ERROR, "message": f"objective {self.config.objective} returned unknown keys "
                                                  f"{unknown}; expected some of {sorted(REPORTED_KEYS)}"}
        outcome = {"status": value.get("status", R.OK), **{k: v for k, v in value.items() if k != "status"}}
        if outcome["status"] not in R.STATUSES or outcome["status"] == R.INTERRUPTED:
            return {"status": R.ERROR, "message": f"objective {self.config.objective} returned status "
                                                  f"{outcome['status']!r}"}
        if outcome["status"] == R.OK:
            error = outcome.get("error")
            if isinstance(error, bool) or not isinstance(error, numbers.Real) or not math.isfinite(error):
                return {"status": R.DIVERGED if isinstance(error, float) else R.ERROR,
                        "message": f"objective {self.config.objective} returned error {error!r}"}
            outcome["error"] = float(error)
        else:
            outcome["error"] = None
        return outcome

    def _worker(self) -> str:
        return f"{self.device}:pid{os.getpid()}"


REPORTED_KEYS = {"error", "status", "message", "seconds", "curve"}


def make_objective(config: EvaluatorConfig) -> Callable[..., Any] | None:
    """None when the evaluator trains, else the callable `(arch, seed)` the config names: a plug-in, or the
    kind's loader made with the table it reads (a look-up, loaded by name: its code lives a stage up)."""
    kind = config.objective_kind
    if kind.trains:
        return None
    if kind.reads_table:
        return resolve_callable(kind.loader, "evaluator.objective")(config.table, config.observe)
    return load_objective(kind.loader)


_CACHE: dict = {}


def evaluator_for(config: EvaluatorConfig, split_seed: int, device: str = "cpu") -> Evaluator:
    """One Evaluator per process for equal arguments: worker processes call this for every evaluation,
    so the dataset loads once per process."""
    key = (json.dumps(to_mapping(config), sort_keys=True, default=str), split_seed, str(device))
    if key not in _CACHE:
        _CACHE[key] = Evaluator(config, split_seed, device)
    return _CACHE[key]


def classify_failure(exc: BaseException) -> dict:
    """{"status": oom | diverged | error, "message": ...} for an exception, the one rule for every
    training (the evaluator, era_deap/cli/train.py); the traceback's frames are cleared so that the
    model and activations they reference can be freed."""
    if _is_oom(exc):
        status, message = R.OOM, f"{type(exc).__name__}: {exc}".strip()
    elif _is_diverged(exc):
        status, message = R.DIVERGED, str(exc)
    else:
        status, message = R.ERROR, "".join(traceback.format_exception(exc))
    traceback.clear_frames(exc.__traceback__)
    return {"status": status, "message": message}


_failure = classify_failure   # the evaluator's own name for it


def _is_diverged(exc: BaseException) -> bool:
    train = sys.modules.get("era_deap.training.train")   # imported whenever training could have diverged
    return train is not None and isinstance(exc, train.Diverged)


def _is_oom(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")
    if isinstance(exc, MemoryError) or (torch is not None and isinstance(exc, torch.OutOfMemoryError)):
        return True
    # The CPU allocator reports as a RuntimeError ("DefaultCPUAllocator: can't allocate memory"), and so
    # do cuDNN/cuBLAS when their workspace allocation fails.
    text = str(exc)
    return isinstance(exc, RuntimeError) and any(sign in text for sign in OOM_SIGNS)


OOM_SIGNS = ("out of memory", "can't allocate memory", "CUDNN_STATUS_ALLOC_FAILED", "CUBLAS_STATUS_ALLOC_FAILED")


def _release_memory(device) -> None:
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and str(device).startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
