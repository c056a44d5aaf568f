"""Evaluations on a Dask distributed cluster: `evaluator.executor: tcp://HOST:PORT` (`era search --scheduler`).

The driver is a Dask client; the scheduler and the workers are the user's own processes, on any number
of machines (docs/cluster.md). The driver stays the only writer of the journal and stays asynchronous:
`next_event()` answers the first thing that happened, in the order the client learned of it.

Capacity (evaluations kept in flight): `evaluator.workers` when it is above 0 (`--workers N`); with
`--workers 0` it follows the cluster: the sum over workers of their threads, or of the evaluations
their GPU resource holds (`min(nthreads, GPU // gpu_share)`) when evaluations ask for GPUs, re-read
every few seconds so that joining workers are used; never below 1.

Worker loss: Dask reschedules the tasks of a worker that dies. The client subscribes to the
scheduler's `remove-worker` events, which list the tasks that were on the lost worker; for each of our
evaluations among them `next_event()` answers `("resubmitted", n, reason)` once, and the result of
evaluation n is still answered exactly once, whichever attempt delivers it. If the cluster gives up on
a task (`KilledWorker`: more losses than `distributed.scheduler.allowed-failures`) we submit it again
under a new key. An evaluation whose workers died MAX_WORKER_LOSSES times is recorded as `error`
(it is most likely what kills them: host memory, a crash); a worker that leaves on purpose (retired,
closed) is told but not held against the evaluation. A finished result that died with its worker
before the driver fetched it is computed again by Dask and told as resubmitted too. Results of stale
attempts are dropped: each evaluation is answered once. Losing the scheduler itself stops the search
(SearchAborted); `--resume` retrains what was in flight.

Devices (decided on the worker, `worker_device`): a pluggable objective gets `cpu`. For training,
`ERA_DEVICE` in the worker's environment wins; else `evaluator.device: cpu` -> cpu; `auto` -> the
worker's first visible CUDA GPU (`cuda:0`; choose the GPU of a worker process with
CUDA_VISIBLE_DEVICES), else cpu; `cuda` / `cuda:N` -> the same, but an `error` result on a worker
without CUDA. Where a worker process sees several GPUs and is named NAME-k (`dask worker --name NAME
--nworkers N` names them so), it takes GPU k mod count instead of the first. Evaluations ask for
`resources={"GPU": gpu_share}` when they train on a GPU: always for `cuda*`, for `auto` only when
some worker offers a GPU resource when the search connects (on a CPU-only cluster `auto` means CPU
instead of waiting forever for a GPU).

Data and threads: each worker process builds one Evaluator per run (`evaluator_for`; those of the
last KEEP_EVALUATORS runs are kept), so the dataset loads once per worker process and is reused, from `evaluator.dataset.data_dir` as the driver's config
resolved it (the same absolute path must exist on every worker), or from `ERA_DATA_DIR` set in the
worker's environment. Every Dask worker thread runs one evaluation with one torch thread (Dask's
nanny already sets OMP_NUM_THREADS=1): `--nthreads` evaluations per worker process use `--nthreads`
cores. `ERA_TORCH_THREADS=k` in the worker's environment gives each evaluation k threads instead
(start such workers with `--nthreads 1`).
"""
from __future__ import annotations

import collections
import dataclasses
import itertools
import logging
import math
import os
import queue
import re
import threading
import time
import traceback
import uuid

from ..errors import ClusterError, SearchAborted
from ..training.result import ERROR, EvalResult, label_worker

MAX_WORKER_LOSSES = 3      # unexpected worker deaths under one evaluation before it is recorded as error
CAPACITY_REFRESH_S = 2.0   # how often `capacity` re-reads the cluster (workers: 0)
EVENT_TOPIC = "all"        # the scheduler logs every remove-worker event under this topic too


# --- the driver's side ------------------------------------------------------------------------------

def connect(address: str):
    """A Dask client of the scheduler at `address`, or a one-line ClusterError naming it. The wait is
    Dask's `distributed.comm.timeouts.connect` (default 30 s; DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)."""
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client
    timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - refused, timed out, unknown host: all one message
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ClusterError(f"evaluator.executor: cannot reach the Dask scheduler at {address} ({reason}); "
                          f"start it with `dask scheduler` or fix the address (--scheduler)") from None


def gpu_resources(config, cluster_has_gpu: bool) -> dict | None:
    """The resources one evaluation asks for: {"GPU": gpu_share} when it trains on a GPU, else None."""
    if config.objective != "train" or config.device == "cpu":
        return None
    if config.device == "auto" and not cluster_has_gpu:
        return None
    return {"GPU": config.gpu_share}


def cluster_slots(workers: dict, resources: dict | None) -> int:
    """Evaluations the cluster runs at once: threads, or GPU shares that fit (never more than threads)."""
    total = 0
    for info in workers.values():
        threads = int(info.get("nthreads", 1))
        if resources:
            share = resources["GPU"]
            threads = min(threads, math.floor(info.get("resources", {}).get("GPU", 0) / share + 1e-9))
        total += threads
    return total


def _offers_gpu(workers: dict) -> bool:
    return any(info.get("resources", {}).get("GPU", 0) > 0 for info in workers.values())


class DaskExecutor:
    """The executor interface of era_deap.search.executors on a Dask cluster (see the module docstring)."""

    def __init__(self, evaluator_config, split_seed: int, workers: int, client=None):
        self.address = evaluator_config.executor
        self._config = evaluator_config
        self._split_seed = split_seed
        self._workers = workers
        # (priority, order, message): worker losses the client has heard of come before results.
        self._events: queue.PriorityQueue = queue.PriorityQueue()
        self._order = itertools.count()
        self._outbox: collections.deque = collections.deque()
        self._tasks: dict[int, dict] = {}           # n -> arch, seed, attempt, key, future, losses
        self._keys: dict[str, int] = {}             # key of the current attempt -> n
        self._losses_seen: set = set()              # (key, worker): each loss counted once
        self._token = uuid.uuid4().hex[:8]
        self._closed = False
        self.client = client if client is not None else connect(self.address)
        try:
            self.client.subscribe_topic(EVENT_TOPIC, self._on_cluster_event)
            workers_now = self._cluster_workers()
            if (evaluator_config.objective == "train" and evaluator_config.device.startswith("cuda")
                    and workers_now and not _offers_gpu(workers_now)):
                raise ClusterError(f"evaluator.device: {evaluator_config.device!r} asks for GPUs, but none of the "
                                  f"{len(workers_now)} workers of the Dask cluster at {self.address} offers a "
                                  f"GPU resource (start them with `dask worker ... --resources GPU=1`)")
            self.resources = gpu_resources(evaluator_config, _offers_gpu(workers_now))
            self._capacity = max(1, cluster_slots(workers_now, self.resources))
            self._capacity_at = time.monotonic()
        except BaseException:
            self._close_client()
            raise

    # --- what the driver calls ---------------------------------------------------------------------

    @property
    def capacity(self) -> int:
        if self._workers > 0:
            return self._workers
        if time.monotonic() - self._capacity_at > CAPACITY_REFRESH_S:
            try:
                self._capacity = max(1, cluster_slots(self._cluster_workers(), self.resources))
            except Exception:  # noqa: BLE001 - keep the last value; a lost scheduler shows in next_event
                pass
            self._capacity_at = time.monotonic()
        return self._capacity

    def submit(self, n: int, arch: dict, seed: int) -> None:
        self._tasks[n] = {"arch": arch, "seed": seed, "attempt": 0, "losses": 0, "key": None, "future": None}
        self._launch(n)

    def next_event(self):
        if not self._tasks and not self._outbox:
            raise RuntimeError("next_event() with nothing submitted")
        while not self._outbox:
            try:
                _, _, message = self._events.get(timeout=0.5)  # a timeout keeps Ctrl-C responsive
            except queue.Empty:
                continue
            if message[0] == "lost":
                self._on_lost(*message[1:])
            else:
                self._on_done(message[1])
        return self._outbox.popleft()

    def _put(self, priority: int, message: tuple) -> None:
        self._events.put((priority, next(self._order), message))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        futures = [t["future"] for t in self._tasks.values() if t["future"] is not None]
        self._tasks.clear()
        self._keys.clear()
        try:
            if futures:
                self.client.cancel(futures, force=True)  # running ones finish on their worker, unheard
        except Exception:  # noqa: BLE001 - the scheduler may be gone
            pass
        self._close_client()

    # --- inside ------------------------------------------------------------------------------------

    def _launch(self, n: int) -> None:
        task = self._tasks[n]
        key = f"era-eval-{n}-{task['attempt']}-{self._token}"
        future = self.client.submit(evaluate_on_worker, self._config, self._split_seed, task["arch"], task["seed"],
                                    key=key, pure=False, resources=self.resources)
        task["key"], task["future"] = key, future
        self._keys[key] = n
        self._when_done(key, future)

    def _when_done(self, key: str, future) -> None:
        future.add_done_callback(lambda _, key=key: self._put(1, ("done", key)))

    def _on_cluster_event(self, event) -> None:
        """Runs on the client's event loop: hand worker removals to the driver's thread."""
        _, message = event
        if isinstance(message, dict) and message.get("action") == "remove-worker":
            self._put(0, ("lost", message.get("worker", "?"), set(message.get("processing-tasks") or ()),
                          set(message.get("lost-computed-tasks") or ()), bool(message.get("expected"))))

    def _on_lost(self, worker: str, running: set, computed: set, expected: bool) -> None:
        for key in sorted(running & set(self._keys), key=lambda k: self._keys[k]):
            self._count_loss(self._keys[key], key, worker, expected)
        # Finished, but its result died with the worker before we fetched it: Dask computes it again.
        for key in sorted(computed & set(self._keys), key=lambda k: self._keys[k]):
            if (key, worker) not in self._losses_seen:
                self._losses_seen.add((key, worker))
                n = self._keys[key]
                self._outbox.append(("resubmitted", n, f"Dask worker {worker} died holding the result of "
                                                       f"evaluation {n} before it was fetched; it runs again"))

    def _count_loss(self, n: int, key: str, worker: str, expected: bool) -> bool:
        """Record one loss of evaluation n's worker; False when n has failed for good."""
        if (key, worker) in self._losses_seen:
            return True
        self._losses_seen.add((key, worker))
        task = self._tasks[n]
        if not expected:
            task["losses"] += 1
        if task["losses"] >= MAX_WORKER_LOSSES:
            future = task["future"]
            self._forget(n)
            try:
                future.cancel()
            except Exception:  # noqa: BLE001
                pass
            self._outbox.append(("done", n, EvalResult(
                ERROR, worker=worker,
                message=f"{task['losses']} Dask workers died while running this evaluation (the last: {worker}); "
                        f"it is probably what kills them (host memory, a crash): not run again")))
            return False
        how = "left the cluster" if expected else "died"
        self._outbox.append(("resubmitted", n, f"Dask worker {worker} {how} while running evaluation {n}; "
                                               f"it runs again on another worker"))
        return True

    def _on_done(self, key: str) -> None:
        n = self._keys.get(key)
        if n is None:
            return  # a stale attempt, or one cancelled here: its evaluation is answered already
        future = self._tasks[n]["future"]
        status = future.status
        if status == "finished":
            try:
                # Blocks only if the result's worker died meanwhile: Dask then computes it again.
                result = future.result()
            except Exception as exc:  # noqa: BLE001
                self._check_scheduler()
                result = EvalResult(ERROR, message=f"could not fetch the result from the Dask cluster: {exc!r}")
            if not isinstance(result, EvalResult):
                result = EvalResult(ERROR, message=f"the Dask task returned {result!r}, expected an EvalResult")
            self._forget(n)
            self._outbox.append(("done", n, result))
        elif status == "error":
            self._on_error(n, future)
        elif status == "cancelled":  # not by us
            self._check_scheduler()
            self._relaunch(n, f"evaluation {n} was cancelled on the Dask cluster; it runs again")
        elif status == "lost":
            self._relaunch(n, f"the Dask cluster lost evaluation {n}; it runs again")
        else:  # pending again: its result was lost with a worker and is being computed again
            self._when_done(key, future)

    def _check_scheduler(self) -> None:
        if self.client.status != "running":
            raise SearchAborted(f"lost the connection to the Dask scheduler at {self.address} with "
                                f"{len(self._tasks)} evaluations in flight; restart it and continue the run "
                                f"with the same command and --resume")

    def _on_error(self, n: int, future) -> None:
        from distributed.scheduler import KilledWorker
        exc = future.exception()
        if isinstance(exc, KilledWorker):
            # The cluster gave up on the task (allowed-failures); we decide with our own limit.
            # Its loss was told already (remove-worker event) or is told now.
            worker = getattr(exc.last_worker, "address", "?")
            if self._count_loss(n, self._tasks[n]["key"], worker, expected=False):
                self._relaunch(n, None)
            return
        lines = traceback.format_exception(type(exc), exc, future.traceback())
        self._forget(n)
        self._outbox.append(("done", n, EvalResult(ERROR, message="the Dask task failed: " + "".join(lines))))

    def _relaunch(self, n: int, reason: str | None) -> None:
        """Submit evaluation n again under a new key; `reason` set: tell the driver."""
        task = self._tasks[n]
        self._keys.pop(task["key"], None)
        task["attempt"] += 1
        self._launch(n)
        if reason:
            self._outbox.append(("resubmitted", n, reason))

    def _forget(self, n: int) -> None:
        task = self._tasks.pop(n)
        self._keys.pop(task["key"], None)
        task["future"] = None

    def _cluster_workers(self) -> dict:
        return dict(self.client.scheduler_info(n_workers=-1).get("workers", {}))

    def _close_client(self) -> None:
        # A client whose scheduler is gone logs reconnection tracebacks while it closes: not news here.
        quiet = logging.getLogger("distributed.client")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            try:
                self.client.unsubscribe_topic(EVENT_TOPIC)
            except Exception:  # noqa: BLE001
                pass
            self.client.close(timeout=10)
        except Exception:  # noqa: BLE001
            pass
        finally:
            quiet.setLevel(level)


# --- the worker's side ------------------------------------------------------------------------------

_SETUP = threading.Lock()
_THREADS_SET = False
_RECENT: collections.OrderedDict = collections.OrderedDict()   # id -> Evaluator, the last used last
KEEP_EVALUATORS = 4


def worker_device(config) -> str:
    """The device an evaluation trains on, on this worker (rule in the module docstring)."""
    if config.objective != "train":
        return "cpu"
    forced = os.environ.get("ERA_DEVICE")
    if forced:
        return forced
    if config.device == "cpu":
        return "cpu"
    import torch
    if torch.cuda.is_available():
        return f"cuda:{gpu_index(_worker_name(), torch.cuda.device_count())}"
    if config.device == "auto":
        return "cpu"
    raise ClusterError(f"evaluator.device is {config.device!r}, but this Dask worker sees no CUDA GPU; start "
                      f"workers with --resources GPU=... only where a GPU is, or set ERA_DEVICE")


def gpu_index(worker_name: str, count: int) -> int:
    """The GPU of a worker process among `count` visible ones: k mod count for a worker named NAME-k
    (`dask worker --name NAME --nworkers N` names its processes NAME-0 .. NAME-(N-1)), else 0."""
    match = re.search(r"-(\d+)$", str(worker_name))
    return int(match.group(1)) % count if match and count > 1 else 0


def worker_config(config):
    """The config as this worker reads it: `ERA_DATA_DIR` (if set) replaces evaluator.dataset.data_dir,
    and the driver-side keys (executor, workers) are left out, so that sessions of one run that differ
    only in those share the worker's Evaluator and its loaded dataset."""
    config = dataclasses.replace(config, executor="local", workers=1)
    data_dir = os.environ.get("ERA_DATA_DIR")
    if not data_dir:
        return config
    return dataclasses.replace(config, dataset=dataclasses.replace(config.dataset, data_dir=data_dir))


def _evaluator(config, split_seed: int, device: str):
    """This process's Evaluator for a run (evaluator_for), keeping those of the KEEP_EVALUATORS runs
    used last: a long-lived worker serving run after run does not hoard their datasets."""
    from ..training import evaluate
    current = evaluate.evaluator_for(config, split_seed, device)
    _RECENT[id(current)] = current
    _RECENT.move_to_end(id(current))
    while len(_RECENT) > KEEP_EVALUATORS:
        _, old = _RECENT.popitem(last=False)
        for key in [k for k, v in evaluate._CACHE.items() if v is old]:
            del evaluate._CACHE[key]  # freed once no evaluation of it is running any more
    return current


def _set_threads(config) -> None:
    global _THREADS_SET
    if _THREADS_SET or config.objective != "train":
        return
    import torch
    torch.set_num_threads(max(1, int(os.environ.get("ERA_TORCH_THREADS", "1"))))
    _THREADS_SET = True


def _worker_name() -> str:
    try:
        from distributed import get_worker
        return str(get_worker().name)
    except (ImportError, ValueError):
        return f"pid{os.getpid()}"


def _worker_address() -> str:
    try:
        from distributed import get_worker
        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"pid{os.getpid()}"


def evaluate_on_worker(config, split_seed: int, arch: dict, seed: int) -> EvalResult:
    """The Dask task: evaluate one architecture with this worker process's cached Evaluator."""
    name = _worker_address()
    try:
        device = worker_device(config)
        config = worker_config(config)
        with _SETUP:  # threads of one worker share the Evaluator: load its dataset once
            _set_threads(config)
            evaluate = _evaluator(config, split_seed, device)
            try:
                evaluate.prepare()
            except Exception:  # noqa: BLE001 - the evaluation below reports it as its error
                pass
    except Exception as exc:  # noqa: BLE001 - an objective that does not import, no GPU, ...
        return EvalResult(ERROR, message=f"Dask worker {name}: {type(exc).__name__}: {exc}", worker=name)
    result = evaluate(arch, seed)
    label_worker(result, f"{name} {device} pid{os.getpid()}")
    return result
