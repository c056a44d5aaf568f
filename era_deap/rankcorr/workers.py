"""The rank-correlation study's trainings, in `workers` processes (as the search's local executor does).

Each worker loads the dataset once and trains one (network, fidelity) at a time; on CPU the cores
are split between workers (one thread each on 2 cores: torch's threads oversubscribe badly when the
cores are busy), on GPUs workers are spread round-robin. Ctrl-C reaches the main process only; it
stops the workers and what finished is already saved.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
import traceback

_WORKER: dict = {}   # this worker process's config, device and (lazily) dataset


def train_one(config, dataset, network, epochs: int, device) -> dict:
    """Train `network` for `epochs`; its accuracy, or how it failed, as a JSON-ready dict."""
    import torch
    from .study import setup
    from ..training.train import Diverged, train
    spec = setup(config, network, epochs)
    started = time.perf_counter()
    result = {"network": network.name, "depth": network.depth, "width": network.width, "device": str(device),
              "setup": spec}
    try:
        record = train(network.arch(), dataset, config.schedule(epochs), device=device, seed=spec["seed"])
    except Diverged as exc:
        failure = ("diverged", str(exc))
    except (MemoryError, torch.OutOfMemoryError) as exc:
        failure = ("oom", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
    except Exception:  # noqa: BLE001 - one broken training must not end a day-long study
        failure = ("error", traceback.format_exc())
    else:
        return {**result, "status": "ok", "accuracy": 100.0 - record.error, "error": record.error,
                "error_kind": record.error_kind, "params": record.params, "seconds": record.seconds,
                "curve": record.curve}
    return {**result, "status": failure[0], "accuracy": None, "message": failure[1],
            "seconds": time.perf_counter() - started}


def _start_worker(config, devices, threads: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)   # the main process decides what Ctrl-C means
    os.environ["OMP_NUM_THREADS"] = str(threads)
    import torch
    torch.set_num_threads(threads)
    _WORKER.update(config=config, device=devices.get(), dataset=None)


def _train_task(task):
    network, epochs = task
    if _WORKER["dataset"] is None:
        from ..training.data import load_dataset
        _WORKER["dataset"] = load_dataset(_WORKER["config"].dataset, _WORKER["config"].seed, _WORKER["device"])
    return network, epochs, train_one(_WORKER["config"], _WORKER["dataset"], network, epochs, _WORKER["device"])


def train_all(config, tasks: list):
    """Yield (network, epochs, result) for every (network, epochs) task as it finishes."""
    from ..search.executors import resolve_devices, threads_per_worker
    devices = resolve_devices(config.device)
    workers = max(1, min(config.workers, len(tasks)))
    context = mp.get_context("spawn")   # fork is unsafe with torch threads and CUDA
    queue = context.Queue()
    for i in range(workers):
        queue.put(devices[i % len(devices)])
    threads = threads_per_worker(workers) if devices[0] == "cpu" else 1
    pool = context.Pool(workers, _start_worker, (config, queue, threads))
    try:
        yield from pool.imap_unordered(_train_task, tasks)
    except BaseException:   # Ctrl-C, an error, or the caller stopped early: stop the workers now
        pool.terminate()
        raise
    else:
        pool.close()        # let the workers exit on their own (a terminate warns about their semaphores)
    finally:
        pool.join()
