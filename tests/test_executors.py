"""Local executors on the executor protocol: where workers run (K per device), and an evaluation that
runs out of memory beside others run again alone, its result told once, also across a SIGKILL and
--resume. Out of memory is simulated on the CPU (tests/memory_neighbours.py): local workers of a
plug-in objective all share the device `cpu`, as K workers share a GPU. The Dask workers' gate for a
shared GPU is checked with threads."""
import collections
import json
import os
import threading
import time
from pathlib import Path

import pytest
from memory_neighbours import ALWAYS_OOM, HOLDER, VICTIM
from searchkit import era, rows, start_era, summary, write_config

from era_deap.search import rundir
from era_deap.search.device_gate import DeviceGate, evaluate_sharing
from era_deap.search.devices import place_workers
from era_deap.search.executor import Done, Resubmitted
from era_deap.search.executors import LocalProcessExecutor
from era_deap.settings import EvaluatorConfig
from era_deap.training.result import EvalResult

TESTS = Path(__file__).resolve().parent
ARCH = {"block": "basic", "sections": [0, 1, 1, 1], "filters": 8, "filter_update": 2, "group_size": 8}


@pytest.fixture
def markers(tmp_path, monkeypatch):
    folder = tmp_path / "markers"
    folder.mkdir()
    monkeypatch.setenv("ERA_TEST_MARKERS", str(folder))   # the spawned workers inherit it
    return folder


def _until(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def _starts(markers: Path) -> list[str]:
    return (markers / "log").read_text().splitlines()


def _local(objective: str, workers: int, devices: list[str]) -> LocalProcessExecutor:
    return LocalProcessExecutor(EvaluatorConfig(objective=objective, device="cpu"), 0, workers, devices)


def test_workers_are_placed_k_per_device_round_robin():
    gpus = ["cuda:0", "cuda:1", "cuda:2"]
    assert place_workers(6, gpus) == gpus + gpus                       # worker i on device i mod G
    assert collections.Counter(place_workers(8, gpus[:2])) == {"cuda:0": 4, "cuda:1": 4}
    assert collections.Counter(place_workers(4, gpus)) == {"cuda:0": 2, "cuda:1": 1, "cuda:2": 1}
    assert place_workers(2, ["cpu"]) == ["cpu", "cpu"]


def test_local_workers_evaluate_on_the_devices_they_were_placed_on():
    # A plug-in objective never touches the device: the placement shows in each result's worker label.
    executor = _local("era_deap.training.objectives:landscape", 4, ["cuda:0", "cuda:1"])
    try:
        for n in range(4):
            executor.submit(n, ARCH, n)
        events = [executor.next_event() for _ in range(4)]
    finally:
        executor.close()
    assert all(isinstance(e, Done) and e.result.ok for e in events)
    assert sorted(e.result.worker for e in events) == ["w0:cuda:0", "w1:cuda:1", "w2:cuda:0", "w3:cuda:1"]


def test_out_of_memory_beside_another_evaluation_runs_again_alone_while_new_work_waits(markers):
    executor = _local("memory_neighbours:scripted", 2, ["cpu"])
    try:
        executor.submit(0, ARCH, HOLDER)
        _until(lambda: any(markers.glob("running-*")), "the holder to start")
        executor.submit(1, ARCH, VICTIM)                  # starts beside the holder: out of memory
        event = executor.next_event()
        assert isinstance(event, Resubmitted) and event.n == 1, event
        assert "ran out of memory on cpu while other evaluations ran there" in event.reason
        executor.submit(2, ARCH, 5)                       # the device is held: it waits for the retry
        (markers / "release").touch()
        events = [executor.next_event() for _ in range(3)]
    finally:
        executor.close()
    assert [(e.n, e.result.status, e.result.error) for e in events] == [(0, "ok", 10.0), (1, "ok", 11.0),
                                                                        (2, "ok", 15.0)]
    assert _starts(markers) == ["0 alone", "1 beside", "1 alone", "5 alone"]


def test_out_of_memory_alone_is_oom_at_once_and_after_a_retry_alone(markers):
    executor = _local("memory_neighbours:scripted", 2, ["cpu"])
    try:
        executor.submit(0, ARCH, ALWAYS_OOM)              # nothing else runs: recorded oom, no retry
        first = executor.next_event()
        executor.submit(1, ARCH, HOLDER)
        _until(lambda: any(markers.glob("running-*")), "the holder to start")
        executor.submit(2, ARCH, ALWAYS_OOM)
        assert isinstance(executor.next_event(), Resubmitted)
        (markers / "release").touch()
        events = [first] + [executor.next_event() for _ in range(2)]
    finally:
        executor.close()
    assert [(e.n, e.result.status) for e in events] == [(0, "oom"), (1, "ok"), (2, "oom")]
    assert "MemoryError: simulated" in events[2].result.message
    assert _starts(markers) == ["2 alone", "0 alone", "2 beside", "2 alone"]


def test_a_search_killed_during_a_retry_resumes_with_every_evaluation_once(markers, tmp_path):
    config = write_config(tmp_path, "random_search", objective="memory_neighbours:crowded_oom", budget=8,
                          workers=2, evaluator={"device": "cpu"})
    run = tmp_path / "run"
    env = {"PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
           "ERA_TEST_MARKERS": str(markers), "ERA_TEST_HOLD": "0.5"}
    process = start_era("search", config, "--out", run, "--no-progress", env=env)
    journal = run / rundir.JOURNAL
    try:
        _until(lambda: journal.exists() and b'"type":"resubmitted"' in journal.read_bytes(), "a retry", 120)
    finally:
        process.kill()
        process.communicate()
    killed = [json.loads(line) for line in journal.read_text().splitlines() if line.endswith("}")]
    done = {r["n"] for r in killed if r["type"] == "result"}
    assert {r["n"] for r in killed if r["type"] == "resubmitted"} - done   # killed while a retry waited/ran
    era("search", config, "--out", run, "--resume", "--no-progress", env=env)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    results = [r["n"] for r in records if r["type"] == "result"]
    retried = {r["n"] for r in records if r["type"] == "resubmitted"}
    assert len(results) == len(set(results)) == 8 and retried <= set(results)   # each told once
    assert [r["status"] for r in rows(run)] == ["ok"] * 8                      # the retries ran alone
    assert summary(run)["trained"] == 8 and summary(run)["failed"] == {}
    assert any(line.endswith("alone") for line in _starts(markers))


def test_a_shared_gpu_holds_new_evaluations_while_one_runs_alone(tmp_path):
    gate = DeviceGate("test-gpu", tmp_path)
    order, running, finish = [], threading.Event(), threading.Event()

    def neighbour():
        with gate.beside_others():
            order.append("neighbour starts")
            running.set()
            finish.wait(10)
            order.append("neighbour ends")

    def retry():
        with gate.alone():
            order.append("alone")

    def newcomer():
        with gate.beside_others():
            order.append("newcomer")

    threads = [threading.Thread(target=f) for f in (neighbour, retry, newcomer)]
    threads[0].start()
    running.wait(10)
    threads[1].start()
    time.sleep(0.3)        # the retry waits for the running neighbour...
    threads[2].start()
    time.sleep(0.3)        # ...and a new evaluation waits for the retry
    assert order == ["neighbour starts"]
    finish.set()
    for t in threads:
        t.join(10)
    assert order == ["neighbour starts", "neighbour ends", "alone", "newcomer"]


def test_on_a_shared_gpu_only_an_evaluation_out_of_memory_runs_again_alone(tmp_path):
    gate = DeviceGate("test-gpu", tmp_path)
    answers = iter([EvalResult("oom", message="beside others"), EvalResult("ok", error=3.0)])
    assert evaluate_sharing(lambda: next(answers), gate) == EvalResult("ok", error=3.0)
    calls = []
    for first in (EvalResult("ok", error=1.0), EvalResult("oom", message="alone too")):
        calls.clear()
        result = evaluate_sharing(lambda: calls.append(1) or first, gate)
        assert result == first and len(calls) == (2 if first.status == "oom" else 1)
    seeds = iter([[EvalResult("ok", error=1.0), EvalResult("oom")], [EvalResult("ok", error=1.0)] * 2])
    assert [r.status for r in evaluate_sharing(lambda: next(seeds), gate)] == ["ok", "ok"]
