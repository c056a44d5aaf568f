"""One GPU shared by several worker processes of a machine (Dask workers started with
`--resources GPU=1/K`), and running one evaluation alone on it.

Every evaluation on the GPU holds the device lock shared. One that must run alone (it ran out of
memory beside others) first takes the gate, so that new evaluations wait at it, then the device lock
exclusively, so that it waits for the evaluations running there to finish; both are released when it
ends. The locks are `flock`s on two files in the machine's temporary directory, named by the user and
the GPU's UUID (the same GPU whatever CUDA_VISIBLE_DEVICES calls it): the kernel releases them however
a process dies, and every worker process of the user on the machine agrees on them.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from .executor import ran_out_of_memory

if TYPE_CHECKING:
    from collections.abc import Iterator

    from ..training.result import EvalResult


class DeviceGate:
    def __init__(self, name: str, directory: str | Path | None = None):
        # Per user as well: another user's lock files could not be opened here (nor their programs held).
        directory, prefix = Path(directory or tempfile.gettempdir()), f"era-deap-{os.getuid()}-{name}"
        self._gate = directory / f"{prefix}.gate"
        self._device = directory / f"{prefix}.device"

    @contextlib.contextmanager
    def beside_others(self) -> Iterator[None]:
        """Run beside the other evaluations on the device (waiting while one runs alone)."""
        with open(self._gate, "a") as gate, open(self._device, "a") as device:
            fcntl.flock(gate, fcntl.LOCK_EX)
            fcntl.flock(device, fcntl.LOCK_SH)
            fcntl.flock(gate, fcntl.LOCK_UN)
            yield

    @contextlib.contextmanager
    def alone(self) -> Iterator[None]:
        """Run alone on the device: new evaluations wait, running ones finish first."""
        with open(self._gate, "a") as gate, open(self._device, "a") as device:
            fcntl.flock(gate, fcntl.LOCK_EX)
            fcntl.flock(device, fcntl.LOCK_EX)
            yield


def gpu_name(device: str) -> str:
    """A name of the GPU `device` that every process of the machine shares: its UUID where torch
    reports one (else the device's name, which may merge GPUs: an evaluation then waits longer)."""
    import torch
    index = torch.device(device).index
    index = torch.cuda.current_device() if index is None else index
    uuid = getattr(torch.cuda.get_device_properties(index), "uuid", None)
    return f"gpu-{uuid}" if uuid else device.replace(":", "")


def evaluate_sharing(evaluate: Callable[[], EvalResult | list[EvalResult]],
                     gate: DeviceGate) -> EvalResult | list[EvalResult]:
    """`evaluate()` beside the other evaluations on the gate's device; when it ran out of memory there,
    once more alone, and that result is the answer (out of memory alone: `oom`, as ever)."""
    with gate.beside_others():
        result = evaluate()
    if ran_out_of_memory(result):
        with gate.alone():
            result = evaluate()
    return result
