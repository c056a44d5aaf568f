"""Evaluations on a Dask distributed cluster: `evaluator.executor: tcp://HOST:PORT` (`era search --scheduler`).

The driver is a Dask client; the scheduler and the workers are the user's own processes, on any number
of machines (docs/cluster.md). The driver stays the only writer of the journal and stays asynchronous:
`next_event()` answers the first thing that happened, in the order the client learned of it (the
protocol and its events: executor.py).

Capacity (evaluations kept in flight): `evaluator.workers` when it is above 0 (`--workers N`); with
`--workers 0` it follows the cluster: the sum over workers of their threads, or of the evaluations
their GPU resource holds (`min(nthreads, GPU // gpu_share)`) when evaluations ask for GPUs, re-read
every few seconds so that joining workers are used; never below 1.

Completions: the executor's futures are tracked with `distributed.as_completed`. Its iterator waits
for futures only, and a worker loss (below) must be handled while nothing completes, so `next_event()`
waits up to POLL_S at a time for a loss notice and then takes what has completed meanwhile.

Worker loss: Dask itself runs the tasks of a worker that dies again on another worker, up to
`distributed.scheduler.allowed-failures` times; past that the future errs with `KilledWorker` and the
executor sends the same task back with `Future.retry()` (`retries=` does not cover this: it counts
exceptions a task raises, not worker deaths). A future says nothing while Dask reruns it (it stays
pending), and no documented API tells a client that a task it waits for was on a lost worker. So, to
tell the driver, the client subscribes to the scheduler's `remove-worker` event (`subscribe_topic`)
and reads the two task lists in it (`processing-tasks`, `lost-computed-tasks`): the one piece of the
scheduler's internals kept. For each of our evaluations among them `next_event()` answers
`Resubmitted(n, reason)` once, and the result of evaluation n is still answered exactly once (`Done`),
after it. An evaluation whose workers died MAX_WORKER_LOSSES times is recorded as `error` (it is most
likely what kills them: host memory, a crash) and its task cancelled; a worker that leaves on purpose
(retired, closed) is told but not held against the evaluation. A finished result that died with its
worker before the driver fetched it is computed again by Dask and told as resubmitted too. Losing the
scheduler itself stops the search (SearchAborted); `--resume` retrains what was in flight.

Where an evaluation runs is decided by worker resources: it asks for `resources={"GPU": gpu_share}`
when it trains on a GPU: always for `cuda*`, for `auto` only when some worker offers a GPU resource when
the search connects (on a CPU-only cluster `auto` means CPU instead of waiting forever for a GPU). On
the worker (dask_worker.py) it trains on the worker process's own GPU, with the Evaluator the worker
plugin keeps for its run; the driver registers that plugin when it connects.

A submission's seed may be a tuple of seeds (a benchmark build): the Evaluator then returns a list of
EvalResults, one per seed (era_deap/training/evaluate.py); the executor's own failures (a worker loss
limit, a task that raised) answer one EvalResult for all of them, as executor.py says.
"""
from __future__ import annotations

import collections
import logging
import math
import queue
import time
import traceback
import uuid
from typing import TYPE_CHECKING

from ..errors import ClusterError, SearchAborted
from ..training.result import ERROR, EvalResult
from .dask_worker import PLUGIN_NAME, EvaluatorsOnWorker, evaluate_on_worker
from .executor import Done, Event, Resubmitted

if TYPE_CHECKING:
    from distributed import Client, as_completed

    from ..settings import EvaluatorConfig

MAX_WORKER_LOSSES = 3      # unexpected worker deaths under one evaluation before it is recorded as error
CAPACITY_REFRESH_S = 2.0   # how often `capacity` re-reads the cluster (workers: 0)
POLL_S = 0.05              # longest wait for a loss notice before next_event() looks at completions again
EVENT_TOPIC = "all"        # the scheduler logs every remove-worker event under this topic too


def connect(address: str) -> Client:
    """A Dask client of the scheduler at `address`, or a one-line ClusterError naming it. The wait is
    Dask's `distributed.comm.timeouts.connect` (default 30 s; DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT)."""
    import dask
    from dask.utils import parse_timedelta
    from distributed import Client
    timeout = parse_timedelta(dask.config.get("distributed.comm.timeouts.connect"), default="seconds")
    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except Exception as exc:  # noqa: BLE001 - refused, timed out, unknown host: all one message
        raise ClusterError(f"evaluator.executor: cannot reach the Dask scheduler at {address} ({_first_line(exc)}); "
                          f"start it with `dask scheduler` or fix the address (--scheduler)") from None


def completions(client: Client) -> as_completed:
    """What tracks the executor's futures: `distributed.as_completed` on the client's event loop (the
    client is not Dask's default client, whose loop as_completed would take otherwise)."""
    from distributed import as_completed
    return as_completed(loop=client.loop)


def gpu_resources(config: EvaluatorConfig, cluster_has_gpu: bool) -> dict | None:
    """The resources one evaluation asks for: {"GPU": gpu_share} when it trains on a GPU, else None."""
    if not config.objective_kind.trains or config.device == "cpu":
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


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


class DaskExecutor:
    """The executor protocol (executor.py) on a Dask cluster (see the module docstring)."""

    def __init__(self, evaluator_config: EvaluatorConfig, split_seed: int, workers: int, client: Client | None = None):
        self.address = evaluator_config.executor
        self._config = evaluator_config
        self._split_seed = split_seed
        self._workers = workers
        self._losses: queue.Queue = queue.Queue()   # remove-worker notices, put by the client's event loop
        self._outbox: collections.deque = collections.deque()
        self._tasks: dict[int, dict] = {}           # n -> arch, seed, attempt, future, losses
        self._keys: dict[str, int] = {}             # key of n's current future -> n
        self._losses_seen: set = set()              # (key, worker): each loss counted once
        self._token = uuid.uuid4().hex[:8]
        self._closed = False
        self.client = client if client is not None else connect(self.address)
        try:
            self._register_plugin()
            self.client.subscribe_topic(EVENT_TOPIC, self._on_cluster_event)
            self._completed = completions(self.client)
            workers_now = self._cluster_workers()
            if (evaluator_config.objective_kind.trains and evaluator_config.device.startswith("cuda")
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

    def submit(self, n: int, arch: dict, seed: int | tuple[int, ...], epochs: int | None = None) -> None:
        """Evaluate `arch` with `seed`, or with each seed of a tuple (a benchmark build); `epochs`: only
        the first epochs of the schedule (a multi-fidelity search)."""
        self._tasks[n] = {"arch": arch, "seed": seed, "epochs": epochs, "attempt": 0, "losses": 0, "future": None}
        self._launch(n)

    def next_event(self) -> Event:
        if not self._tasks and not self._outbox:
            raise RuntimeError("next_event() with nothing submitted")
        while not self._outbox:
            self._take_losses()   # first: a loss is told before the result of the attempt that followed it
            if self._completed.has_ready():
                for future in self._completed.next_batch(block=False):
                    self._on_completed(future)
                continue
            try:
                self._on_lost(*self._losses.get(timeout=POLL_S))  # a short wait keeps Ctrl-C responsive too
            except queue.Empty:
                pass
        return self._outbox.popleft()

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

    def _register_plugin(self) -> None:
        try:
            self.client.register_plugin(EvaluatorsOnWorker(), name=PLUGIN_NAME)
        except Exception as exc:  # noqa: BLE001 - typically a worker without era-deap: one line, not a traceback
            raise ClusterError(f"evaluator.executor: could not register era-deap's worker plugin on the Dask "
                              f"cluster at {self.address} ({type(exc).__name__}: {_first_line(exc)}); every "
                              f"worker needs era-deap installed, the same version as here") from None

    def _launch(self, n: int) -> None:
        """Submit evaluation n as a new task (its first attempt, or one after a cancellation)."""
        task = self._tasks[n]
        key = f"era-eval-{n}-{task['attempt']}-{self._token}"
        future = self.client.submit(evaluate_on_worker, self._config, self._split_seed, task["arch"], task["seed"],
                                    task["epochs"], key=key, pure=False, resources=self.resources)
        task["future"] = future
        self._keys[key] = n
        self._completed.add(future)

    def _on_cluster_event(self, event) -> None:
        """Runs on the client's event loop: hand worker removals to the driver's thread."""
        _, message = event
        if isinstance(message, dict) and message.get("action") == "remove-worker":
            self._losses.put((message.get("worker", "?"), set(message.get("processing-tasks") or ()),
                              set(message.get("lost-computed-tasks") or ()), bool(message.get("expected"))))

    def _take_losses(self) -> None:
        while True:
            try:
                loss = self._losses.get_nowait()
            except queue.Empty:
                return
            self._on_lost(*loss)

    def _on_lost(self, worker: str, running: set, computed: set, expected: bool) -> None:
        for key in sorted(running & set(self._keys), key=lambda k: self._keys[k]):
            self._count_loss(self._keys[key], key, worker, expected)
        # Finished, but its result died with the worker before we fetched it: Dask computes it again.
        for key in sorted(computed & set(self._keys), key=lambda k: self._keys[k]):
            if (key, worker) not in self._losses_seen:
                self._losses_seen.add((key, worker))
                n = self._keys[key]
                self._outbox.append(Resubmitted(n, f"Dask worker {worker} died holding the result of "
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
                future.cancel()   # else Dask would run it once more; as_completed still yields it: dropped
            except Exception:  # noqa: BLE001
                pass
            self._outbox.append(Done(n, EvalResult(
                ERROR, worker=worker,
                message=f"{task['losses']} Dask workers died while running this evaluation (the last: {worker}); "
                        f"it is probably what kills them (host memory, a crash): not run again")))
            return False
        how = "left the cluster" if expected else "died"
        self._outbox.append(Resubmitted(n, f"Dask worker {worker} {how} while running evaluation {n}; "
                                           f"it runs again on another worker"))
        return True

    def _on_completed(self, future) -> None:
        n = self._keys.get(future.key)
        if n is None or self._tasks[n]["future"] is not future:
            return  # cancelled here: its evaluation is answered already
        status = future.status
        if status == "finished":
            try:
                # Blocks only if the result's worker died meanwhile: Dask then computes it again.
                result = _checked(future.result(), self._tasks[n]["seed"])
            except Exception as exc:  # noqa: BLE001
                self._check_scheduler()
                result = EvalResult(ERROR, message=f"could not fetch the result from the Dask cluster: {exc!r}")
            self._forget(n)
            self._outbox.append(Done(n, result))
        elif status == "error":
            self._on_error(n, future)
        elif status == "cancelled":  # not by us
            self._check_scheduler()
            self._relaunch(n, f"evaluation {n} was cancelled on the Dask cluster; it runs again")
        else:  # pending or lost again: its result was lost with a worker and is being computed again
            self._completed.add(future)

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
            if self._count_loss(n, future.key, worker, expected=False):
                self._retry(n, future)
            return
        lines = traceback.format_exception(type(exc), exc, future.traceback())
        self._forget(n)
        self._outbox.append(Done(n, EvalResult(ERROR, message="the Dask task failed: " + "".join(lines))))

    def _retry(self, n: int, future) -> None:
        """Send the task of evaluation n back to the scheduler (Future.retry): same key, same future."""
        try:
            future.retry()
        except Exception:  # noqa: BLE001 - a gone scheduler stops the search; else a new task will do
            self._check_scheduler()
            self._relaunch(n, None)
            return
        self._completed.add(future)

    def _relaunch(self, n: int, reason: str | None) -> None:
        """Submit evaluation n again as a new task (its future cannot come back); `reason` set: tell the driver."""
        task = self._tasks[n]
        self._keys.pop(task["future"].key, None)
        task["attempt"] += 1
        self._launch(n)
        if reason:
            self._outbox.append(Resubmitted(n, reason))

    def _forget(self, n: int) -> None:
        task = self._tasks.pop(n)
        self._keys.pop(task["future"].key, None)
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


def _checked(result, seed):
    """The task's result if it has the shape the driver expects for `seed`, else an error result."""
    if isinstance(seed, (tuple, list)):
        if (isinstance(result, list) and len(result) == len(seed)
                and all(isinstance(one, EvalResult) for one in result)):
            return result
        expected = f"a list of {len(seed)} EvalResults"
    elif isinstance(result, EvalResult):
        return result
    else:
        expected = "an EvalResult"
    return EvalResult(ERROR, message=f"the Dask task returned {result!r}, expected {expected}")
