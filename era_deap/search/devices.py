"""Where local worker processes run: the devices a config names, the cores they share on a CPU, and
which device each worker gets (docs/cluster.md, "Several evaluations per GPU")."""
from __future__ import annotations

import os

from ..errors import ConfigError


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def threads_per_worker(workers: int) -> int:
    return max(1, available_cores() // max(1, workers))


def resolve_devices(device: str) -> list[str]:
    """`auto` | `cpu` | `cuda` | `cuda:N` | `cuda:0,1` -> concrete device names."""
    if device == "cpu":
        return ["cpu"]
    import torch
    count = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if device == "auto":
        return [f"cuda:{i}" for i in range(count)] or ["cpu"]
    if not count:
        raise ConfigError(f"evaluator.device: {device!r} asks for CUDA, but no CUDA GPU is available here "
                          f"(use 'auto' or 'cpu')")
    if device == "cuda":
        return [f"cuda:{i}" for i in range(count)]
    if device.startswith("cuda:"):
        try:
            ids = [int(i) for i in device[5:].split(",")]
        except ValueError:
            ids = []
        if ids and all(0 <= i < count for i in ids):
            return [f"cuda:{i}" for i in ids]
    raise ConfigError(f"evaluator.device: expected auto, cpu, cuda or cuda:N[,M...] with N < {count}, "
                      f"got {device!r}")


def place_workers(workers: int, devices: list[str]) -> list[str]:
    """The device of each of `workers` worker processes, in worker order: round-robin over `devices`. So
    `workers` = K x len(devices) puts K on every device (worker i on device i mod G); otherwise the first
    `workers mod len(devices)` devices get one more."""
    return [devices[i % len(devices)] for i in range(workers)]
