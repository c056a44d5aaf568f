"""The Dask workers' side of evaluations on a cluster (the driver's side, the client: dask_executor.py).
This is what runs inside `dask worker` processes: the task function and the worker plugin that holds
each process's Evaluators.

Evaluators on the workers: the driver registers an EvaluatorsOnWorker with `Client.register_plugin`
(idempotent: a later search on the cluster keeps the workers' instances and their loaded datasets).
The task finds its worker's instance with `get_worker().plugins`; each keeps the Evaluators of the last
KEEP_EVALUATORS runs it evaluated for, so the dataset loads once per worker process and run, from
`evaluator.dataset.data_dir` as the driver's config resolved it (the same absolute path must exist on
every worker), or from `ERA_DATA_DIR` set in the worker's environment. Every Dask worker thread runs
one evaluation with one torch thread (Dask's nanny already sets OMP_NUM_THREADS=1): `--nthreads`
evaluations per worker process use `--nthreads` cores. `ERA_TORCH_THREADS=k` in the worker's
environment gives each evaluation k threads instead (start such workers with `--nthreads 1`).

Devices (decided on the worker, `worker_device`): an objective that does not train gets `cpu`. For
training, `ERA_DEVICE` in the worker's environment wins; else `evaluator.device: cpu` -> cpu; `auto` ->
the worker process's first visible CUDA GPU (`cuda:0`), else cpu; `cuda` / `cuda:N` -> the same, but an
`error` result on a worker without CUDA. Which GPU a worker process has is that worker's own
configuration: `CUDA_VISIBLE_DEVICES` (or `ERA_DEVICE`) in the environment of its `dask worker`
command, one command per GPU; a process that sees several GPUs trains on the first and warns.

Several evaluations per GPU (`evaluator.gpu_share` 1/K, workers started with `--resources GPU=1/K`):
an evaluation that runs out of memory there runs again alone on its GPU before it answers
(device_gate.py: new evaluations on that GPU wait, running ones finish first); out of memory alone, it
is `oom`. The driver sees one result.
"""
from __future__ import annotations

import collections
import dataclasses
import json
import os
import threading
import warnings
from typing import TYPE_CHECKING

from distributed import WorkerPlugin

from ..config import to_mapping
from ..errors import ClusterError
from ..training.result import ERROR, EvalResult, label_worker
from .device_gate import DeviceGate, evaluate_sharing, gpu_name

if TYPE_CHECKING:
    from distributed import Worker

    from ..settings import EvaluatorConfig
    from ..training.evaluate import Evaluator

PLUGIN_NAME = "era-deap-evaluators"
KEEP_EVALUATORS = 4        # runs whose Evaluators (and datasets) a worker process keeps


class EvaluatorsOnWorker(WorkerPlugin):
    """The Evaluators of one Dask worker process: those of the KEEP_EVALUATORS runs used last, so that a
    long-lived worker serving run after run loads each run's dataset once and does not hoard them.
    Registered by the driver (`Client.register_plugin`); a task finds it with `worker_evaluators`."""

    name = PLUGIN_NAME
    idempotent = True   # a later search on the same cluster keeps this instance and its loaded datasets

    def __init__(self, keep: int = KEEP_EVALUATORS):
        self.keep = keep
        self._evaluators = collections.OrderedDict()   # key -> Evaluator, the last used last
        self._lock = threading.Lock()
        self._torch_threads_set = False

    # Sent to the workers by pickle: the settings travel, the lock and the Evaluators do not.
    def __getstate__(self) -> dict:
        return {"keep": self.keep}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["keep"])

    def teardown(self, worker: Worker) -> None:
        self._evaluators.clear()   # the worker closes, or the plugin is removed: let the datasets go

    def evaluators(self) -> list:
        """The Evaluators kept now, the least recently used first."""
        return list(self._evaluators.values())

    def evaluator(self, config: EvaluatorConfig, split_seed: int, device: str) -> Evaluator:
        """The Evaluator for these arguments, its dataset loaded (a load error is left for the
        evaluation to report). Threads of one worker share it: the lock makes the dataset load once."""
        from ..training.evaluate import Evaluator
        key = (json.dumps(to_mapping(config), sort_keys=True, default=str), split_seed, str(device))
        with self._lock:
            if config.objective_kind.trains:
                self._set_torch_threads()
            evaluator = self._evaluators.pop(key, None)
            if evaluator is None:
                evaluator = Evaluator(config, split_seed, device)
            self._evaluators[key] = evaluator
            while len(self._evaluators) > self.keep:
                self._evaluators.popitem(last=False)  # freed once no evaluation of it is running any more
            try:
                evaluator.prepare()
            except Exception:  # noqa: BLE001 - the evaluation reports it as its error
                pass
        return evaluator

    def _set_torch_threads(self) -> None:
        if self._torch_threads_set:
            return
        import torch
        torch.set_num_threads(max(1, int(os.environ.get("ERA_TORCH_THREADS", "1"))))
        self._torch_threads_set = True


# Outside a Dask worker (the task function called directly), or on a worker without the plugin (one
# that joined while it was being registered, say), evaluations use this process's own instance.
_THIS_PROCESS = EvaluatorsOnWorker()


def worker_evaluators(worker: Worker | None) -> EvaluatorsOnWorker:
    """The EvaluatorsOnWorker of `worker` (a Dask worker, or None outside one), else this process's own."""
    plugin = worker.plugins.get(PLUGIN_NAME) if worker is not None else None
    return plugin if isinstance(plugin, EvaluatorsOnWorker) else _THIS_PROCESS


def worker_device(config: EvaluatorConfig) -> str:
    """The device an evaluation trains on, on this worker process (rule in the module docstring)."""
    if not config.objective_kind.trains:
        return "cpu"
    forced = os.environ.get("ERA_DEVICE")
    if forced:
        return forced
    if config.device == "cpu":
        return "cpu"
    import torch
    if torch.cuda.is_available():
        count = torch.cuda.device_count()
        if count > 1:  # printed once per process (the warnings module's default)
            warnings.warn(f"this Dask worker process sees {count} GPUs and trains on the first (cuda:0); "
                          f"give each worker process its own GPU with CUDA_VISIBLE_DEVICES (one "
                          f"`dask worker` command per GPU) or ERA_DEVICE (docs/cluster.md)", RuntimeWarning,
                          stacklevel=2)
        return "cuda:0"
    if config.device == "auto":
        return "cpu"
    raise ClusterError(f"evaluator.device is {config.device!r}, but this Dask worker sees no CUDA GPU; start "
                      f"workers with --resources GPU=... only where a GPU is, or set ERA_DEVICE")


def worker_config(config: EvaluatorConfig) -> EvaluatorConfig:
    """The config as this worker reads it: `ERA_DATA_DIR` (if set) replaces evaluator.dataset.data_dir,
    and the driver-side keys (executor, workers) are left out, so that sessions of one run that differ
    only in those share the worker's Evaluator and its loaded dataset."""
    config = dataclasses.replace(config, executor="local", workers=1)
    data_dir = os.environ.get("ERA_DATA_DIR")
    if not data_dir:
        return config
    return dataclasses.replace(config, dataset=dataclasses.replace(config.dataset, data_dir=data_dir))


def _current_worker():
    """The Dask worker running this task (`get_worker()`), or None outside one."""
    from distributed import get_worker
    try:
        return get_worker()
    except ValueError:
        return None


def evaluate_on_worker(config: EvaluatorConfig, split_seed: int, arch: dict, seed: int | tuple[int, ...],
                       epochs: int | None = None) -> EvalResult | list[EvalResult]:
    """The Dask task: evaluate one architecture with this worker process's Evaluator. `seed` may be a
    tuple of seeds: then a list of EvalResults, one per seed."""
    worker = _current_worker()
    name = str(worker.address) if worker is not None else f"pid{os.getpid()}"
    try:
        device = worker_device(config)
        evaluate = worker_evaluators(worker).evaluator(worker_config(config), split_seed, device)
    except Exception as exc:  # noqa: BLE001 - an objective that does not import, no GPU, ...
        failed = f"Dask worker {name}: {type(exc).__name__}: {exc}"
        if isinstance(seed, (tuple, list)):
            return [EvalResult(ERROR, message=failed, worker=name) for _ in seed]
        return EvalResult(ERROR, message=failed, worker=name)
    if shares_a_gpu(config, device):
        result = evaluate_sharing(lambda: evaluate(arch, seed, epochs), DeviceGate(gpu_name(device)))
    else:
        result = evaluate(arch, seed, epochs)
    label_worker(result, f"{name} {device} pid{os.getpid()}")
    return result


def shares_a_gpu(config: EvaluatorConfig, device: str) -> bool:
    """Whether evaluations take a share of a GPU (`gpu_share` < 1): then other worker processes of
    this machine may train on the same one, and one out of memory beside them runs again alone."""
    return device.startswith("cuda") and config.gpu_share < 1
