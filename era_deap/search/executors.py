"""Where evaluations run on this machine: in the driver process (`workers: 0`), or in local worker
processes; and `make_executor`, which picks an executor from the config (the protocol: executor.py).

Local workers are spawned processes, each holding one Evaluator (the dataset loads once per process).
On CPU the machine's cores are split between them (torch threads); on GPUs worker i trains on device
i mod G (devices.place_workers): `workers: K x G` puts K on every GPU. A worker that dies (a fatal CUDA
error, a segfault) costs its evaluation an `error` result naming the signal or exit code; a fresh
worker replaces it. Workers die with the driver (Linux parent-death signal), so a killed search leaves
no orphans training.

Out of memory beside others: an evaluation that ends `oom` after sharing its device with another
evaluation at any moment while it ran may have run out because of them. It runs again alone on that
device (answered `Resubmitted`): new work for the device waits until the evaluations running there
have finished and the retry has ended, and only the retry's result is answered (`Done`). An evaluation
that runs out of memory alone is `oom`, as ever. Not for a table's recorded results (not this machine's
memory). Within one executor only: other programs on the GPU are not held back.
"""
from __future__ import annotations

import collections
import ctypes
import multiprocessing as mp
import os
import signal
import sys
from dataclasses import dataclass
from multiprocessing.connection import wait
from typing import TYPE_CHECKING

from ..training.result import ERROR, EvalResult, label_worker
from .devices import place_workers, resolve_devices, threads_per_worker
from .executor import Done, Event, Resubmitted, ran_out_of_memory

if TYPE_CHECKING:
    from ..settings import EvaluatorConfig
    from .executor import Executor


class InProcessExecutor:
    """Evaluates in the driver process, one at a time (workers: 0). For debugging and cheap objectives."""

    def __init__(self, evaluator_config: EvaluatorConfig, split_seed: int, device: str = "cpu"):
        from ..training.evaluate import evaluator_for
        self._evaluate = evaluator_for(evaluator_config, split_seed, device)
        self._queue = []
        self.name = f"main:{device}"

    @property
    def capacity(self) -> int:
        return 1

    def submit(self, n: int, arch: dict, seed: int | tuple[int, ...], epochs: int | None = None) -> None:
        self._queue.append((n, arch, seed, epochs))

    def next_event(self) -> Event:
        n, arch, seed, epochs = self._queue.pop(0)
        result = self._evaluate(arch, seed, epochs)
        label_worker(result, self.name)
        return Done(n, result)

    def close(self) -> None:
        self._queue.clear()


@dataclass
class _Task:
    n: int
    arch: dict
    seed: object
    epochs: int | None
    crowded: bool = False     # another evaluation ran on its device at some moment while it ran
    alone: bool = False       # the retry, run alone on its device


@dataclass
class _Worker:
    index: int
    device: str
    name: str
    conn: object
    process: object
    task: _Task | None = None


class LocalProcessExecutor:
    def __init__(self, evaluator_config: EvaluatorConfig, split_seed: int, workers: int, devices: list[str]):
        self._context = mp.get_context("spawn")  # fork is unsafe with torch threads and CUDA
        self._args = (evaluator_config, split_seed)
        self._threads = threads_per_worker(workers)
        # A table's recorded `oom` is not this machine's memory: running it alone would change nothing.
        self._retries_oom = not evaluator_config.objective_kind.simulated_clock
        self._waiting: collections.deque = collections.deque()   # submitted, not started yet
        # device -> evaluations to run alone there, in turn (the first may be running): the device is held
        self._alone: dict[str, collections.deque] = {}
        self._workers = [self._start(i, device) for i, device in enumerate(place_workers(workers, devices))]

    @property
    def capacity(self) -> int:
        return len(self._workers)

    def _start(self, index: int, device: str) -> _Worker:
        parent, child = self._context.Pipe()
        name = f"w{index}:{device}"
        process = self._context.Process(target=_worker_main, name=f"era-worker-{index}", daemon=True,
                                        args=(child, name, device, self._threads, *self._args))
        process.start()
        child.close()
        return _Worker(index, device, name, parent, process)

    def submit(self, n: int, arch: dict, seed: int | tuple[int, ...], epochs: int | None = None) -> None:
        self._waiting.append(_Task(n, arch, seed, epochs))
        self._start_waiting()

    def next_event(self) -> Event:
        busy = [w for w in self._workers if w.task is not None]
        if not busy:
            raise RuntimeError("next_event() with nothing submitted")
        handles = {}
        for w in busy:
            handles[w.conn] = w
            handles[w.process.sentinel] = w
        ready = wait(list(handles))
        # A finished result wins over a death noticed in the same wait.
        for handle in ready:
            worker = handles[handle]
            if handle is worker.conn:
                try:
                    n, result = worker.conn.recv()
                except (EOFError, OSError):
                    continue
                return self._finished(worker, result)
        return self._replace_dead(handles[ready[0]])

    def _finished(self, worker: _Worker, result) -> Event:
        task, worker.task = worker.task, None
        if self._retries_oom and task.crowded and not task.alone and ran_out_of_memory(result):
            task.crowded, task.alone = False, True
            self._alone.setdefault(worker.device, collections.deque()).append(task)
            self._start_waiting()
            return Resubmitted(task.n, f"evaluation {task.n} ran out of memory on {worker.device} while "
                                       f"other evaluations ran there; it runs again alone on that device")
        self._release(worker.device, task)
        self._start_waiting()
        return Done(task.n, result)

    def _release(self, device: str, task: _Task) -> None:
        """`task` has ended: when it ran alone, the device goes to the next retry, or is free again."""
        queue = self._alone.get(device)
        if queue and queue[0] is task:
            queue.popleft()
            if not queue:
                del self._alone[device]

    def _start_waiting(self) -> None:
        """Start what can start: a retry once nothing else runs on its device, then waiting evaluations
        in submission order on the first idle workers whose device is not held."""
        for device, queue in self._alone.items():
            if not self._busy_on(device):
                self._send(next(w for w in self._workers if w.device == device), queue[0])
        while self._waiting:
            idle = next((w for w in self._workers if w.task is None and w.device not in self._alone), None)
            if idle is None:
                return
            self._send(idle, self._waiting.popleft())

    def _busy_on(self, device: str) -> list[_Worker]:
        return [w for w in self._workers if w.device == device and w.task is not None]

    def _send(self, worker: _Worker, task: _Task) -> None:
        neighbours = self._busy_on(worker.device)
        for other in neighbours:
            other.task.crowded = True
        task.crowded = task.crowded or bool(neighbours)
        worker.task = task
        worker.conn.send((task.n, task.arch, task.seed, task.epochs))

    def _replace_dead(self, worker: _Worker) -> Event:
        task, worker.task = worker.task, None
        worker.process.join(timeout=5)
        result = EvalResult(ERROR, message=death_message(worker.name, worker.device, worker.process.exitcode),
                            worker=worker.name)
        worker.conn.close()
        self._workers[self._workers.index(worker)] = self._start(worker.index, worker.device)
        self._release(worker.device, task)
        self._start_waiting()
        return Done(task.n, result)

    def close(self) -> None:
        self._waiting.clear()
        self._alone.clear()
        for w in self._workers:
            try:
                w.conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        for w in self._workers:
            w.process.join(timeout=2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(timeout=2)
            w.conn.close()
        self._workers = []


def death_message(name: str, device: str, exitcode: int | None) -> str:
    """Why worker `name` on `device` ended mid-evaluation: the signal that killed it, by name, or its
    exit code; a likely cause only where the device makes it likely (no CUDA talk on a CPU)."""
    if exitcode is not None and exitcode < 0:
        try:
            how = f"was killed by signal {-exitcode} ({signal.Signals(-exitcode).name})"
        except ValueError:
            how = f"was killed by signal {-exitcode}"
    else:
        how = f"exited with code {exitcode}"
    cause = ("a fatal CUDA error or a crash in native code" if device.startswith("cuda")
             else "a crash in native code, e.g. a segfault or heap corruption in a math library")
    return f"worker process {name} {how} while evaluating ({cause}); a new worker took its place"


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this worker when the driver dies, whatever killed it."""
    if sys.platform.startswith("linux"):
        try:
            PR_SET_PDEATHSIG = 1
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except OSError:  # pragma: no cover
            pass


def _worker_main(conn, name, device, threads, evaluator_config, split_seed):
    _die_with_parent()
    # Ctrl-C reaches the whole process group; the driver decides what an interrupt means.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.environ["OMP_NUM_THREADS"] = str(threads)  # before torch is imported
    if evaluator_config.objective_kind.trains:
        import torch
        torch.set_num_threads(threads)
    from ..training.evaluate import evaluator_for
    evaluate = evaluator_for(evaluator_config, split_seed, device)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        n, arch, seed, epochs = message
        result = evaluate(arch, seed, epochs)
        label_worker(result, name)
        try:
            conn.send((n, result))
        except (OSError, BrokenPipeError):
            return


def make_executor(evaluator_config: EvaluatorConfig, split_seed: int, workers: int) -> Executor:
    """The executor the config asks for: Dask when `executor` is a scheduler address, else local."""
    if evaluator_config.executor != "local":
        from .dask_executor import DaskExecutor
        return DaskExecutor(evaluator_config, split_seed, workers)  # workers 0: as many as the cluster runs
    # A pluggable objective `(arch, seed)` gets no device: don't import torch just to count GPUs.
    devices = resolve_devices(evaluator_config.device) if evaluator_config.objective_kind.trains else ["cpu"]
    if workers == 0:
        return InProcessExecutor(evaluator_config, split_seed, devices[0])
    return LocalProcessExecutor(evaluator_config, split_seed, workers, devices)
