"""Evaluations on a Dask cluster: a real `dask scheduler` and two `dask worker` processes on loopback.

Worker w0 is a plain CPU worker; w1 also offers `--resources GPU=1`, so placement of GPU-asking
evaluations is tested for real without a GPU (they land on w1 only and train on its CPU under
`device: auto`). On a CUDA machine the `gpu` test trains on w1's GPU.
"""
import collections
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CONFIGS
from searchkit import era, rows, start_era, summary, wait_for_results, write_config

from era_deap.errors import ClusterError
from era_deap.search import dask_executor, dask_worker, rundir
from era_deap.search.dask_executor import DaskExecutor, cluster_slots, gpu_resources
from era_deap.search.dask_worker import (
    PLUGIN_NAME,
    EvaluatorsOnWorker,
    evaluate_on_worker,
    worker_config,
    worker_device,
)
from era_deap.search.executor import Done, Resubmitted
from era_deap.search.run import run_search
from era_deap.settings import EvaluatorConfig, load_search_config
from era_deap.training.result import EvalResult

distributed = pytest.importorskip("distributed")

OBJECTIVE_SLEEP = 0.6   # seconds per paced_landscape evaluation on the workers: time to kill one
QUICK_SPACE = CONFIGS / "quick" / "space.yaml"
DIGITS = {"dataset": {"name": "digits"}, "training": {"epochs": 1, "batch_size": 128}}


def _dask(*args) -> list[str]:
    return [sys.executable, "-m", "dask", *map(str, args)]


def _until(condition, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Cluster:
    """A scheduler and named workers, each its own process group (killed whole, leftovers included)."""

    WORKERS = {"w0": [], "w1": ["--resources", "GPU=1"]}

    def __init__(self, directory: Path):
        self.directory = directory
        self.processes: dict[str, subprocess.Popen] = {}
        self.env = {**os.environ, "ERA_OBJECTIVE_SLEEP": str(OBJECTIVE_SLEEP), "PYTHONUNBUFFERED": "1"}
        scheduler_file = directory / "scheduler.json"
        self._start("scheduler", _dask("scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                       "--scheduler-file", scheduler_file, "--idle-timeout", "600s"))
        _until(lambda: scheduler_file.exists() and scheduler_file.stat().st_size > 0, 60, "the scheduler file")
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.client = distributed.Client(self.address, set_as_default=False, timeout=30)
        self.ensure_workers()

    def _start(self, name: str, command: list[str]) -> None:
        log = open(self.directory / f"{name}.log", "ab")
        self.processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=self.env,
                                                cwd=self.directory, start_new_session=True)
        log.close()

    def workers(self) -> dict:
        """Worker name -> address, as the scheduler sees it now."""
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        return {w["name"]: address for address, w in info.items()}

    def ensure_workers(self) -> None:
        for name, extra in self.WORKERS.items():
            process = self.processes.get(name)
            if process is None or process.poll() is not None:
                self._start(name, _dask("worker", self.address, "--name", name, "--nworkers", 1, "--nthreads", 1,
                                        "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60s",
                                        "--local-directory", self.directory / name, *extra))
        _until(lambda: set(self.workers()) == set(self.WORKERS), 90, "the scheduler to report 2 workers", 0.2)

    def kill(self, name: str) -> None:
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=30)

    def close(self) -> None:
        try:
            self.client.close(timeout=10)
        finally:
            for process in self.processes.values():
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                process.wait(timeout=30)


@pytest.fixture(scope="module")
def _cluster(tmp_path_factory):
    cluster = None
    try:
        cluster = Cluster(tmp_path_factory.mktemp("dask"))
        yield cluster
    finally:
        if cluster is not None:
            cluster.close()


@pytest.fixture
def cluster(_cluster):
    _cluster.ensure_workers()  # a test may have killed one
    return _cluster


def _journal(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / rundir.JOURNAL).read_text().splitlines() if line.strip()]


def _asked_unanswered(run_dir: Path) -> list[int]:
    """Evaluations asked and not answered yet, from the complete lines of a journal being written."""
    records = []
    for line in (run_dir / rundir.JOURNAL).read_text().splitlines():
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:   # the line being written
            pass
    answered = {r["n"] for r in records if r["type"] == "result"}
    return [r["n"] for r in records if r["type"] == "ask" and r["n"] not in answered]


def _assert_each_ask_answered_once(run_dir: Path, budget: int) -> list[dict]:
    records = _journal(run_dir)
    asks = [r["n"] for r in records if r["type"] == "ask"]
    results = [r for r in records if r["type"] == "result"]
    answered = [r["n"] for r in results]
    assert sorted(answered) == sorted(asks) and len(set(answered)) == len(answered), "an evaluation lost or doubled"
    trained = [r for r in results if not r["result"]["cached"]]
    assert len(trained) == budget and len({r["key"] for r in trained}) == budget
    return records


# --- on the real cluster --------------------------------------------------------------------------------

@pytest.mark.slow
def test_killed_worker_evaluation_is_resubmitted_once_and_the_search_completes(cluster, tmp_path):
    budget = 10
    config = write_config(tmp_path, "regularized_evolution", budget=budget, workers=2,
                          objective="era_deap.training.objectives:paced_landscape")
    out = tmp_path / "run"
    process = start_era("search", config, "--out", out, "--no-progress", "--scheduler", cluster.address)
    try:
        wait_for_results(out, 2, process, timeout=120)
        # Kill the worker of an evaluation that has just started (it has OBJECTIVE_SLEEP seconds left).
        before = {k for keys in cluster.client.processing().values() for k in keys}

        def fresh():
            for address, keys in cluster.client.processing().items():
                new = [k for k in keys if k.startswith("era-eval-") and k not in before]
                if new:
                    return address, new[0]
        address, key = _until(fresh, 60, "a new evaluation to start", 0.02)
        victim = next(name for name, a in cluster.workers().items() if a == address)
        cluster.kill(victim)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    records = _assert_each_ask_answered_once(out, budget)
    lost = int(key.split("-")[2])
    resubmitted = [r for r in records if r["type"] == "resubmitted"]
    told = [r["n"] for r in resubmitted]
    assert lost in told and len(set(told)) == len(told), resubmitted   # once per evaluation and loss
    assert all(address in r["reason"] and "died" in r["reason"] for r in resubmitted)
    result = next(r for r in records if r["type"] == "result" and r["n"] == lost)
    assert result["result"]["status"] == "ok" and address not in result["result"]["worker"]
    s = summary(out)
    assert s["finished"] and s["stop_reason"] == "budget" and s["trained"] == budget and not s["failed"]


@pytest.mark.slow
def test_interrupted_on_the_cluster_then_resumed_locally_is_the_same_search(cluster, tmp_path):
    config = write_config(tmp_path, "regularized_evolution", budget=8, workers=1,
                          objective="era_deap.training.objectives:paced_landscape")
    out = tmp_path / "run"
    process = start_era("search", config, "--out", out, "--no-progress", "--scheduler", cluster.address)
    try:
        wait_for_results(out, 2, process, timeout=120)
        # Right after a result the driver may not have asked the next one yet: signal while one is in flight.
        _until(lambda: _asked_unanswered(out), 60, "an evaluation in flight", 0.005)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 143, err
    assert any(r["type"] == "interrupted" for r in _journal(out)) and not summary(out)["finished"]
    era("search", config, "--out", out, "--resume", "--no-progress", "--workers", "0", env={"ERA_OBJECTIVE_SLEEP": "0"})
    reference = load_search_config(config)
    reference.evaluator.workers = 0
    run_search(reference, tmp_path / "reference")
    assert rows(out) == rows(tmp_path / "reference") and summary(out)["finished"]


@pytest.mark.slow
def test_digits_training_on_the_cluster_loads_the_dataset_once_per_worker(cluster, tmp_path):
    budget = 4
    config = write_config(tmp_path, "random_search", budget=budget, workers=2, objective="train", space=QUICK_SPACE,
                          evaluator={**DIGITS, "device": "cpu"})
    out = tmp_path / "run"
    result = era("search", config, "--out", out, "--no-progress", "--scheduler", cluster.address, timeout=300)
    assert f"{budget} trained" in result.stdout
    _assert_each_ask_answered_once(out, budget)
    table = rows(out, drop=())
    assert all(r["status"] == "ok" and 0 <= float(r["error"]) <= 100 for r in table)
    assert all(r["worker"].startswith("tcp://127.0.0.1:") and " cpu " in r["worker"] for r in table)

    def evaluators_of(config, dask_worker):   # the worker plugin the search registered holds them
        return [(e._dataset is not None, e.device) for e in dask_worker.plugins[PLUGIN_NAME].evaluators()
                if e.config == config]
    evaluator = worker_config(load_search_config(config).evaluator)
    used = {r["worker"].split()[0] for r in table}
    per_worker = cluster.client.run(evaluators_of, evaluator, workers=sorted(used))
    assert per_worker and all(v == [(True, "cpu")] for v in per_worker.values()), per_worker


@pytest.mark.slow
def test_gpu_asking_evaluations_go_only_to_gpu_workers(cluster, tmp_path):
    # device auto + a worker offering GPU: evaluations ask for GPU=gpu_share, so only w1 runs them
    # (on its CPU here: it has no CUDA); --workers 0 keeps as many in flight as fit: 1 on w1.
    budget = 3
    config = write_config(tmp_path, "random_search", budget=budget, workers=0, objective="train", space=QUICK_SPACE,
                          evaluator={**DIGITS, "device": "auto", "gpu_share": 1.0})
    out = tmp_path / "run"
    run_search(_on(load_search_config(config), cluster.address), out)
    gpu_worker = cluster.workers()["w1"]
    assert [r["worker"].split()[0] for r in rows(out, drop=())] == [gpu_worker] * budget


def test_same_search_as_the_local_run_with_one_worker(cluster, tmp_path):
    # One evaluation in flight on both sides (locally in this process, to spare a torch import).
    config = load_search_config(write_config(tmp_path, "regularized_evolution", budget=16, workers=0,
                                             objective="era_deap.training.objectives:landscape"))
    local = run_search(config, tmp_path / "local")
    config.evaluator.workers = 1
    distributed_run = run_search(_on(config, cluster.address), tmp_path / "dask")
    assert rows(tmp_path / "dask") == rows(tmp_path / "local")
    assert distributed_run["best"] == local["best"] and distributed_run["trained"] == 16
    assert all(r["worker"].startswith("tcp://") for r in rows(tmp_path / "dask", drop=()))


def test_problem_map_on_the_cluster_gives_the_in_process_fitnesses_in_order(cluster, tmp_path):
    """era_deap.Problem's toolbox.map over a Dask scheduler, as DEAP registers map for parallel evaluation."""
    import era_deap
    from era_deap.space.genome import to_arch
    from era_deap.training.objectives import landscape
    fitnesses = {}
    for name, extra in (("local", {}), ("dask", {"executor": cluster.address})):
        config = write_config(tmp_path, "regularized_evolution", name=name, workers=0 if not extra else 2,
                              objective="era_deap.training.objectives:landscape", evaluator=extra)
        problem = era_deap.Problem(config, out=tmp_path / name, seed=3)
        toolbox = problem.toolbox()
        population = toolbox.population(n=8)
        population[5] = toolbox.clone(population[2])            # asked twice: trained once, cached once
        fitnesses[name] = toolbox.map(toolbox.evaluate, population)
        problem.close()
    assert fitnesses["dask"] == fitnesses["local"] == [(landscape(to_arch(i)),) for i in population]
    assert rows(tmp_path / "dask") == rows(tmp_path / "local")
    trained_on = [r["worker"] for r in rows(tmp_path / "dask", drop=()) if r["cached"] == "0"]
    assert len(trained_on) == 7 and all(worker.startswith("tcp://") for worker in trained_on)


def test_unreachable_scheduler_is_one_line_naming_the_address(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    address = f"tcp://127.0.0.1:{port}"
    config = write_config(tmp_path, "random_search", budget=3)
    started = time.monotonic()
    result = era("search", config, "--out", tmp_path / "run", "--no-progress", "--scheduler", address,
                 env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"}, check=False, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and address in lines[0] and "cannot reach the Dask scheduler" in lines[0], result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.gpu
def test_training_on_a_gpu_worker(cluster, tmp_path):
    config = write_config(tmp_path, "random_search", budget=2, workers=0, objective="train", space=QUICK_SPACE,
                          evaluator={**DIGITS, "device": "cuda"})
    out = tmp_path / "run"
    run_search(_on(load_search_config(config), cluster.address), out)
    table = rows(out, drop=())
    gpu_worker = cluster.workers()["w1"]
    assert all(r["status"] == "ok" and r["worker"].split()[:2] == [gpu_worker, "cuda:0"] for r in table)


def _on(config, address):
    config.evaluator.executor = address
    return config


# --- without a cluster ----------------------------------------------------------------------------------
class FakeCompletions:
    """What DaskExecutor asks of distributed.as_completed: futures come out once done."""

    def __init__(self):
        self.ready = []

    def add(self, future):
        if future.status in ("finished", "error", "cancelled"):
            self.ready.append(future)
        else:
            future.tracker = self

    def has_ready(self):
        return bool(self.ready)

    def next_batch(self, block=True):
        batch, self.ready = self.ready, []
        return batch


class FakeFuture:
    def __init__(self, key):
        self.key, self.status, self.tracker = key, "pending", None
        self._result = self._exception = None
        self.retried = 0

    def _done(self, status):
        self.status = status
        tracker, self.tracker = self.tracker, None
        if tracker is not None:
            tracker.ready.append(self)

    def finish(self, result):
        self._result = result
        self._done("finished")

    def fail(self, exception):
        self._exception = exception
        self._done("error")

    def cancel(self):
        self._done("cancelled")

    def retry(self):
        self.retried += 1
        self.status, self._exception = "pending", None

    def result(self):
        return self._result

    def exception(self):
        return self._exception

    def traceback(self):
        return None


class FakeClient:
    """What DaskExecutor asks of a client, recording submissions and plugin registrations."""

    def __init__(self, workers, plugin_error=None):
        self._workers = workers
        self._plugin_error = plugin_error
        self.submitted = []
        self.futures = {}
        self.plugins = []
        self.closed = False

    def register_plugin(self, plugin, name=None):
        if self._plugin_error is not None:
            raise self._plugin_error
        self.plugins.append((plugin, name))

    def subscribe_topic(self, topic, handler):
        self.handler = handler

    def unsubscribe_topic(self, topic):
        pass

    def scheduler_info(self, n_workers=-1):
        return {"workers": self._workers}

    status = "running"

    def submit(self, function, *args, **kwargs):
        self.submitted.append((function, args, kwargs))
        self.futures[kwargs["key"]] = FakeFuture(kwargs["key"])
        return self.futures[kwargs["key"]]

    def lose(self, worker, running=(), computed=(), expected=False):
        """The scheduler's remove-worker event, as subscribers get it."""
        self.handler((0.0, {"action": "remove-worker", "worker": worker, "processing-tasks": set(running),
                            "lost-computed-tasks": set(computed), "expected": expected}))

    def cancel(self, futures, force=False):
        pass

    def close(self, timeout=None):
        self.closed = True


@pytest.fixture
def fake_completions(monkeypatch):
    monkeypatch.setattr(dask_executor, "completions", lambda client: FakeCompletions())


GPU_WORKERS = {"tcp://a:1": {"nthreads": 4, "resources": {"GPU": 1}},
               "tcp://b:1": {"nthreads": 1, "resources": {"GPU": 1}},
               "tcp://c:1": {"nthreads": 8, "resources": {}}}
CPU_WORKERS = {"tcp://c:1": {"nthreads": 8, "resources": {}}, "tcp://d:1": {"nthreads": 2}}


def _evaluator(**changes) -> EvaluatorConfig:
    config = EvaluatorConfig(executor="tcp://127.0.0.1:8786")
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def test_gpu_training_submits_with_its_gpu_share(fake_completions):
    client = FakeClient(GPU_WORKERS)
    executor = DaskExecutor(_evaluator(device="cuda", gpu_share=0.25), 7, 0, client=client)
    (plugin, name), = client.plugins                    # the workers' Evaluators live in this plugin
    assert isinstance(plugin, EvaluatorsOnWorker) and name == PLUGIN_NAME and plugin.idempotent
    executor.submit(3, {"arch": 1}, 11)
    function, args, kwargs = client.submitted[0]
    assert function is evaluate_on_worker and args[1:] == (7, {"arch": 1}, 11, None)   # None: all epochs
    assert kwargs["resources"] == {"GPU": 0.25} and kwargs["pure"] is False
    assert kwargs["key"].startswith("era-eval-3-0-")
    # workers 0: as many as fit: min(4 threads, 1 / 0.25) + min(1, 4) on the GPU workers, none on c.
    assert executor.capacity == 5
    executor.close()
    assert client.closed


def test_which_evaluations_ask_for_a_gpu(fake_completions):
    assert gpu_resources(_evaluator(device="auto", gpu_share=0.5), cluster_has_gpu=True) == {"GPU": 0.5}
    assert gpu_resources(_evaluator(device="auto"), cluster_has_gpu=False) is None      # CPU-only cluster
    assert gpu_resources(_evaluator(device="cuda:1"), cluster_has_gpu=False) == {"GPU": 1.0}
    assert gpu_resources(_evaluator(device="cpu"), cluster_has_gpu=True) is None
    assert gpu_resources(_evaluator(objective="era_deap.training.objectives:landscape"), cluster_has_gpu=True) is None
    assert cluster_slots(CPU_WORKERS, None) == 10
    assert cluster_slots(GPU_WORKERS, {"GPU": 1.0}) == 2
    assert cluster_slots(GPU_WORKERS, {"GPU": 0.3}) == 4    # 3 shares fit in one GPU, b has 1 thread
    assert DaskExecutor(_evaluator(), 0, 3, client=FakeClient(CPU_WORKERS)).capacity == 3


def test_cuda_on_a_cluster_without_gpu_workers_is_a_clear_error(fake_completions):
    client = FakeClient(CPU_WORKERS)
    with pytest.raises(ClusterError, match=r"'cuda' asks for GPUs, but none of the 2 workers .* --resources GPU=1"):
        DaskExecutor(_evaluator(device="cuda"), 0, 0, client=client)
    assert client.closed


def test_workers_that_cannot_load_the_plugin_are_one_line(fake_completions):
    client = FakeClient(CPU_WORKERS, plugin_error=ModuleNotFoundError("No module named 'era_deap'\nTraceback ..."))
    with pytest.raises(ClusterError) as raised:
        DaskExecutor(_evaluator(), 0, 0, client=client)
    message = str(raised.value)
    assert "\n" not in message and "tcp://127.0.0.1:8786" in message and "No module named 'era_deap'" in message
    assert "era-deap installed" in message and client.closed


def test_worker_device_and_data_dir_rules(monkeypatch):
    monkeypatch.delenv("ERA_DEVICE", raising=False)
    monkeypatch.delenv("ERA_DATA_DIR", raising=False)
    import torch
    has_cuda = torch.cuda.is_available()
    assert worker_device(_evaluator(device="cpu")) == "cpu"
    assert worker_device(_evaluator(objective="era_deap.training.objectives:landscape", device="cuda")) == "cpu"
    if not has_cuda:
        assert worker_device(_evaluator(device="auto")) == "cpu"
        with pytest.raises(ClusterError, match="sees no CUDA GPU"):
            worker_device(_evaluator(device="cuda"))
    # A worker process trains on the first GPU it sees, whatever its name; seeing several, it says so.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert worker_device(_evaluator(device="auto")) == worker_device(_evaluator(device="cuda:3")) == "cuda:0"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    with pytest.warns(RuntimeWarning, match="sees 4 GPUs and trains on the first .*CUDA_VISIBLE_DEVICES"):
        assert worker_device(_evaluator(device="auto")) == "cuda:0"
    monkeypatch.setenv("ERA_DEVICE", "cpu")
    assert worker_device(_evaluator(device="cuda")) == "cpu"
    monkeypatch.setenv("ERA_DEVICE", "cuda:2")
    assert worker_device(_evaluator(device="auto")) == "cuda:2"
    config = _evaluator(workers=3)
    assert worker_config(config) == _evaluator(executor="local", workers=1)   # driver-side keys left out
    monkeypatch.setenv("ERA_DATA_DIR", "/data/on/this/worker")
    moved = worker_config(config)
    assert moved.dataset.data_dir == "/data/on/this/worker" and config.dataset.data_dir == "data"


def test_only_evaluations_on_a_share_of_a_gpu_run_again_alone_on_the_worker():
    # The retry itself (device_gate.evaluate_sharing) is tested in tests/test_executors.py.
    assert dask_worker.shares_a_gpu(_evaluator(gpu_share=0.5), "cuda:0")
    assert not dask_worker.shares_a_gpu(_evaluator(gpu_share=1.0), "cuda:0")
    assert not dask_worker.shares_a_gpu(_evaluator(gpu_share=0.5), "cpu")


ARCH = {"block": "basic", "sections": [0, 1, 1, 1], "filters": 8, "filter_update": 2, "group_size": 8}


def test_a_worker_reads_the_dataset_from_its_era_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("ERA_DATA_DIR", str(tmp_path / "worker-data"))
    config = _evaluator(device="cpu")
    config.dataset.name, config.dataset.data_dir = "cifar10", "/driver/data"
    result = evaluate_on_worker(config, 0, ARCH, 0)
    assert result.status == "error" and "CIFAR-10 not found" in result.message
    assert str(tmp_path / "worker-data") in result.message and "/driver/data" not in result.message


def test_a_worker_keeps_the_evaluators_of_its_last_runs_only(monkeypatch):
    evaluators = EvaluatorsOnWorker(keep=4)
    monkeypatch.setattr(dask_worker, "_THIS_PROCESS", evaluators)   # what the task uses outside a worker
    config = _evaluator(objective="era_deap.training.objectives:landscape")
    first = [evaluate_on_worker(config, seed, ARCH, 0) for seed in range(4)]
    assert all(r.ok for r in first) and len(evaluators.evaluators()) == 4
    kept = evaluators.evaluator(worker_config(config), 1, "cpu")
    evaluate_on_worker(config, 1, ARCH, 0)                       # run 1 used again: now the most recent
    evaluate_on_worker(config, 99, ARCH, 0)                      # a new run: the least recent (0) goes
    assert [e.split_seed for e in evaluators.evaluators()] == [2, 3, 1, 99]
    assert evaluators.evaluator(worker_config(config), 1, "cpu") is kept
    # Registered on a cluster the plugin travels by pickle: its setting, not its Evaluators or its lock.
    copy = pickle.loads(pickle.dumps(evaluators))
    assert copy.keep == 4 and copy.evaluators() == [] and evaluators.evaluators()
    evaluators.teardown(worker=None)                             # the worker closes: its datasets go
    assert evaluators.evaluators() == []


def test_the_task_function_outside_a_worker_returns_a_result():
    result = evaluate_on_worker(_evaluator(objective="era_deap.training.objectives:landscape"), 0, ARCH, 0)
    assert isinstance(result, EvalResult) and result.ok and result.worker.startswith("pid")
    broken = evaluate_on_worker(_evaluator(objective="no_such_module_here:f"), 0, {}, 0)
    assert broken.status == "error" and "no_such_module_here" in broken.message


def test_a_tuple_of_seeds_is_one_result_per_seed_on_the_worker_and_through_the_executor(fake_completions):
    landscape = _evaluator(objective="era_deap.training.objectives:landscape")
    results = evaluate_on_worker(landscape, 0, ARCH, (0, 1, 2))
    assert [r.ok for r in results] == [True] * 3 and all(r.worker.startswith("pid") for r in results)
    broken = evaluate_on_worker(_evaluator(objective="no_such_module_here:f"), 0, ARCH, (0, 1))
    assert [r.status for r in broken] == ["error", "error"]
    executor, client, (key,) = _running()
    executor.submit(1, ARCH, (0, 1))
    seeds_key = client.submitted[-1][2]["key"]
    assert client.submitted[-1][1][3] == (0, 1)
    client.futures[seeds_key].finish([OK, OK])
    assert executor.next_event() == Done(1, [OK, OK])
    client.futures[key].finish([OK, OK])                             # a list for one seed: not what was asked
    event = executor.next_event()
    assert failed(event, 0) and "expected an EvalResult" in event.result.message


OK = EvalResult("ok", error=12.5)


def resubmitted(event, n) -> bool:
    return isinstance(event, Resubmitted) and event.n == n


def failed(event, n) -> bool:
    """Evaluation n answered with one `error` result."""
    return isinstance(event, Done) and event.n == n and event.result.status == "error"


def _running(count=1):
    client = FakeClient(CPU_WORKERS)
    executor = DaskExecutor(_evaluator(objective="era_deap.training.objectives:landscape"), 0, 2, client=client)
    for n in range(count):
        executor.submit(n, {"arch": n}, n)
    return executor, client, [client.submitted[n][2]["key"] for n in range(count)]


def test_each_worker_loss_is_told_once_and_the_third_is_an_error(fake_completions):
    executor, client, (key,) = _running()
    client.lose("tcp://c:1", running=[key, "someone-elses-task"])
    client.lose("tcp://c:1", running=[key])             # the same loss again (KilledWorker, say): not news
    event = executor.next_event()
    assert resubmitted(event, 0) and "tcp://c:1 died" in event.reason
    client.lose("tcp://d:1", running=[key], expected=True)   # a worker leaving on purpose: told, not held against it
    assert resubmitted(executor.next_event(), 0)
    client.lose("tcp://e:1", running=[key])
    assert resubmitted(executor.next_event(), 0)
    client.lose("tcp://f:1", running=[key])
    event = executor.next_event()
    assert failed(event, 0) and "3 Dask workers died" in event.result.message
    assert client.futures[key].status == "cancelled" and not executor._tasks and executor._outbox == collections.deque()
    assert len(client.submitted) == 1                   # Dask reran it itself each time


def test_a_task_the_cluster_gave_up_on_is_retried_and_told_once(fake_completions):
    from distributed.scheduler import KilledWorker

    class Worker:
        address = "tcp://c:1"
    executor, client, (first, other) = _running(2)
    client.lose("tcp://c:1", running=[first])
    client.futures[first].fail(KilledWorker(first, Worker(), 0))   # allowed-failures 0: the cluster gave up
    assert resubmitted(executor.next_event(), 0)
    client.futures[other].finish(OK)
    assert executor.next_event() == Done(1, OK)                # retried on the way, silently
    assert client.futures[first].retried == 1 and len(client.submitted) == 2   # the same task, not a new one
    client.futures[first].finish(OK)
    assert executor.next_event() == Done(0, OK)
    assert not executor._tasks and executor._losses.empty()
    # A KilledWorker whose loss the event did not announce is told once, too.
    executor.submit(5, {"arch": 5}, 5)
    key = client.submitted[-1][2]["key"]
    client.futures[key].fail(KilledWorker(key, Worker(), 0))
    assert resubmitted(executor.next_event(), 5)
    client.lose("tcp://c:1", running=[key])                          # late event of the same loss: not told
    assert client.futures[key].retried == 1
    client.futures[key].finish(OK)
    assert executor.next_event() == Done(5, OK)


def test_a_task_cancelled_by_someone_else_runs_again_and_its_old_future_is_dropped(fake_completions):
    executor, client, (key,) = _running()
    client.futures[key].cancel()
    event = executor.next_event()
    assert resubmitted(event, 0) and "cancelled on the Dask cluster" in event.reason
    new_key = client.submitted[-1][2]["key"]
    assert new_key.startswith("era-eval-0-1-") and client.submitted[-1][1] == client.submitted[0][1]
    executor._completed.add(client.futures[key])                     # the old one again: not an answer
    client.futures[new_key].finish(OK)
    assert executor.next_event() == Done(0, OK)


def test_a_result_lost_before_it_was_fetched_is_told_and_awaited(fake_completions):
    executor, client, (key,) = _running()
    future = client.futures[key]
    future.finish(OK)
    future.status = "pending"                                       # Dask recomputes it
    client.lose("tcp://c:1", computed=[key])
    assert resubmitted(executor.next_event(), 0)          # the loss comes first
    future._done("finished")
    assert executor.next_event() == Done(0, OK)


def test_task_errors_become_error_results_and_a_lost_scheduler_stops_the_search(fake_completions):
    from era_deap.search.driver import SearchAborted
    executor, client, (first, second) = _running(2)
    client.futures[first].fail(ModuleNotFoundError("No module named 'era_deap'"))
    event = executor.next_event()
    assert failed(event, 0) and "No module named 'era_deap'" in event.result.message
    client.status = "connecting"
    client.futures[second].cancel()
    with pytest.raises(SearchAborted, match=r"lost the connection to the Dask scheduler at tcp://127.0.0.1:8786"):
        executor.next_event()
