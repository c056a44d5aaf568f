"""benchmarks/bench_thesis_gpu.py: its arithmetic directly, and the whole script at tiny sizes on CPU
(worker processes, the alone and K phases, the projections), checked against its own JSON."""
import json
import math
import random
import subprocess
import sys

import pytest
from conftest import CONFIGS, ROOT

from era_deap.space import load_space
from era_deap.training.result import ERROR, OOM, EvalResult

sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_thesis_gpu as bench  # noqa: E402

# One batch per epoch alone, half a batch in the K phases (each starts fresh worker processes: seconds of
# imports); a wide budget, so nothing is skipped.
TINY = ["--device", "cpu", "--networks", "3", "--train-size", "128", "--concurrency-train-size", "64",
        "--image-size", "8", "--epochs", "2", "--workers-list", "1,2", "--max-mmacs", "5",
        "--budget-seconds", "60"]


def test_epoch_seconds_split_the_first_epoch_from_the_steady_ones():
    curve = [{"seconds": 3.0}, {"seconds": 5.0}, {"seconds": 7.0}]
    first, steady = bench.epoch_seconds(curve, total=7.5)
    assert steady == 2.0 and first == 3.5            # everything but the two steady epochs
    with pytest.raises(ValueError):
        bench.epoch_seconds(curve[:1], 3.0)


def test_projected_seconds_is_the_first_epoch_plus_steady_ones_scaled_to_the_full_size():
    assert bench.projected_seconds(3.5, 2.0, 20) == 3.5 + 19 * 2.0
    # measured on 1/8 of the images: the first epoch's extra (1.5 s) is paid once, the epochs are 8x longer
    assert bench.projected_seconds(3.5, 2.0, 20, scale=8) == 1.5 + 20 * 16.0
    # and the time a measurement at 1/8 of the images takes alone, predicted from a full-size one
    assert bench.predicted_alone(3.5, 2.0, 2, scale=8) == 1.5 + 2 * 0.25


def test_a_network_is_measured_with_k_workers_when_k_times_its_time_alone_is_within_twice_the_budget():
    alone = {0: {"first": 3.0, "steady": 2.0}, 1: {"first": 20.0, "steady": 16.0}}
    # 2 epochs at 1/8 of the images alone: 1 + 2 x 0.25 = 1.5 s and 4 + 2 x 2 = 8 s
    assert [bench.fitting(alone, k, 2, 8, budget=4.0) for k in (1, 2, 8)] == [[0, 1], [0], []]


def test_rotation_starts_each_worker_at_its_share_and_visits_every_network_once():
    orders = [bench.rotation(24, 8, w) for w in range(8)]
    assert [o[0] for o in orders] == [0, 3, 6, 9, 12, 15, 18, 21]
    assert all(sorted(o) == list(range(24)) for o in orders)
    assert bench.rotation(3, 2, 1) == [1, 2, 0]


def test_contention_weighs_every_network_equally():
    alone = {0: 10.0, 1: 100.0, 2: 50.0, 3: 40.0}
    measured = [(0, 20.0), (0, 30.0), (1, 150.0)]    # network 0 twice, 1 once, 3 not reached, 2 skipped
    row = bench.contention(alone, measured, skipped={2}, k=2)
    slowdown = (20 + 30 + 150) / (10 + 10 + 100)     # time-weighted over the measurements
    assert row["slowdown"] == pytest.approx(slowdown)
    mean = (25.0 + 150.0 + 2 * 50.0 + slowdown * 40.0) / 4
    assert row["seconds_per_evaluation"] == pytest.approx(mean)
    assert row["evaluations_per_hour"] == pytest.approx(3600 * 2 / mean)
    like_measured = (25.0 + 150.0 + slowdown * 50.0 + slowdown * 40.0) / 4
    assert row["evaluations_per_hour_skipped_like_measured"] == pytest.approx(3600 * 2 / like_measured)
    assert row["networks_measured"] == 2 and row["skipped"] == [2]
    # nothing measured: every network counts as gaining nothing from running beside the others
    nothing = bench.contention(alone, [], skipped=set(alone), k=4)
    assert nothing["slowdown"] is None
    assert nothing["evaluations_per_hour"] == pytest.approx(3600 / (sum(alone.values()) / 4))


def test_search_cost_of_six_searches_is_six_times_one():
    cost = bench.search_cost(80.0, budget=200)
    assert cost["one_search_gpu_hours"] == 2.5 and cost["all_searches_gpu_hours"] == 6 * 2.5


def test_mac_statistics_and_the_default_concurrency_size():
    stats = bench.mac_statistics([0.01, 0.02, 0.03, 1.0])
    assert stats["median"] == 0.025 and stats["max"] == 1.0 and stats["mean"] == pytest.approx(0.265)
    assert bench.mac_statistics([0.5]) == {"mean": 0.5, "median": 0.5, "p90": 0.5, "max": 0.5}
    assert bench.default_concurrency_size(45000) == 44 * 128      # whole batches, about 1/8
    assert bench.default_concurrency_size(256) == 128
    assert bench.default_concurrency_size(100) == 100


def test_a_failed_or_lost_evaluation_is_recorded_with_its_status():
    oom = EvalResult(OOM, message="OutOfMemoryError: CUDA out of memory. Tried to allocate 2 GiB")
    record = bench.measurement(5, 1, oom, epochs=20, scale=1.0)
    assert record["status"] == "oom" and "out of memory" in record["message"] and "projected" not in record
    crashed = EvalResult(ERROR, message="worker process w1 died (exit code -11: ...)")
    record = bench.measurement(5, 1, crashed, epochs=20, scale=1.0)
    assert record["status"] == "error" and record["message"].startswith("worker process w1 died")


def test_the_sample_is_uniform_configurations_drawn_with_the_seed_within_the_limits():
    space = load_space(CONFIGS / "space.yaml")
    networks = bench.sample_networks(space, 12, 0, (3, 32, 32))
    rng = random.Random(0)
    assert [n.key for n in networks] == [space.key(space.draw(rng)) for _ in range(12)]   # no duplicate met
    small = bench.sample_networks(space, 5, 0, (3, 8, 8), max_mmacs=2, min_filters=8)
    assert all(n.macs <= 2e6 and n.arch["filters"] >= 8 for n in small)
    assert len({n.key for n in small}) == 5 and all(n.cifar_macs > n.macs for n in small)


def test_the_script_runs_at_tiny_sizes_on_cpu_and_its_projections_follow_from_its_measurements(tmp_path):
    out = tmp_path / "thesis.json"
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_thesis_gpu.py"), *TINY,
                          "--json", str(out)], capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "leaked" not in run.stderr      # workers killed in a filler leave nothing behind
    data = json.loads(out.read_text())
    epochs, budget = data["thesis"]["epochs"], data["thesis"]["budget"]
    assert (epochs, budget) == (20, 200)

    alone = data["alone"]["measurements"]
    assert len(data["networks"]) == 3 and len(alone) == 3
    for record in alone:
        assert record["status"] == "ok" and record["images_per_second"] > 0 and record["steady"] > 0
        assert record["projected"] == pytest.approx(record["first"] + 19 * record["steady"])
    projected = {r["network"]: r["projected"] for r in alone}
    alone_rate = 3600 / (sum(projected.values()) / 3)

    scale = 128 / 64
    assert [row["k"] for row in data["concurrency"]] == [1, 2]
    for row in data["concurrency"]:
        good = [r for r in row["measurements"] if r["status"] == "ok"]
        assert len(good) >= row["k"] and row["evaluations_per_hour"] > 0
        for r in good:
            assert r["projected"] == pytest.approx(r["first"] - r["steady"] + epochs * r["steady"] * scale)
        pairs = [(r["network"], r["projected"]) for r in good]
        again = bench.contention(projected, pairs, row["skipped"], row["k"])
        assert again["evaluations_per_hour"] == pytest.approx(row["evaluations_per_hour"])

    projection = data["projection"]
    rates = {(c["k"], c["alone"]): c for c in projection["by_k"]}
    assert rates[(1, True)]["evaluations_per_hour"] == pytest.approx(alone_rate)
    for cost in projection["by_k"]:
        assert cost["one_search_gpu_hours"] == pytest.approx(budget / cost["evaluations_per_hour"])
        assert cost["all_searches_gpu_hours"] == pytest.approx(6 * cost["one_search_gpu_hours"])
    best = max(projection["by_k"], key=lambda c: c["evaluations_per_hour"])
    assert projection["best_k"] == best["k"]
    assert projection["best"] == {key: best[key] for key in projection["best"]}
    assert projection["thesis_gpu_hours_per_search"] == [150, 160]
    assert math.isclose(data["gmacs_per_cifar_image"]["sample"]["max"],
                        max(n["cifar_macs"] for n in data["networks"]) / 1e9)

    text = run.stdout
    for network in data["networks"]:
        assert network["key"] in text
    assert "evaluations/hour" in text and f"best K = {projection['best_k']}" in text
    assert "GPU-hours" in text and "150-160 GPU-hours per search" in text
