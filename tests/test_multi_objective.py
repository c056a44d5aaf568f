"""Multi-objective search: error x cost as one DEAP fitness, NSGA-II and ParEGO on the driver; every
strategy passes the conformance checks with two objectives; the hypervolume is right."""
import json
import random
import signal

import pytest
from conftest import CONFIGS
from searchkit import era, rows, start_era, summary, wait_for_results, write_config

from era_deap.search.fitness import REFERENCE, Objectives, hypervolume
from era_deap.search.run import run_search
from era_deap.settings import load_search_config
from era_deap.space.space import load_space

MO_KINDS = ("nsga2", "bayesian_optimization", "regularized_evolution", "random_search")
SPACE = load_space(CONFIGS / "space.yaml")


def search(tmp_path, kind, name="run", objectives=("error", "params"), **kwargs):
    config = load_search_config(write_config(tmp_path, kind, name=name, objectives=list(objectives), **kwargs))
    return run_search(config, tmp_path / name), tmp_path / name


def brute_force_2d(points, reference):
    """Area dominated by 2-D minimisation points up to `reference`, by sweeping over x."""
    inside = sorted(p for p in points if p[0] < reference[0] and p[1] < reference[1])
    area, best_y = 0.0, reference[1]
    for (x, y), nxt in zip(inside, [p[0] for p in inside[1:]] + [reference[0]]):
        best_y = min(best_y, y)
        area += (nxt - x) * (reference[1] - best_y)
    return area


def test_hypervolume_matches_a_brute_force_2d_computation():
    rng = random.Random(0)
    for _ in range(200):
        points = [(rng.random() * 1.2, rng.random() * 1.2) for _ in range(rng.randrange(1, 12))]
        assert hypervolume(points) == pytest.approx(brute_force_2d(points, (REFERENCE, REFERENCE)), abs=1e-12)
    assert hypervolume([]) == 0.0 and hypervolume([(1.5, 0.1)]) == 0.0


@pytest.mark.parametrize("kind", MO_KINDS)
def test_budget_no_duplicates_and_a_pareto_front_of_nondominated_networks(tmp_path, kind):
    result, out = search(tmp_path, kind, budget=30)
    table = rows(out)
    assert result["finished"] and result["trained"] == 30
    keys = [r["key"] for r in table if r["cached"] == "0"]
    assert len(set(keys)) == len(keys) == 30
    front = [(f["objectives"]["error"], f["objectives"]["params"]) for f in result["front"]]
    assert front and result["objectives"] == ["error", "params"]
    evaluated = [(float(r["error"]), int(r["params"])) for r in table if r["status"] == "ok"]
    for point in front:     # nothing evaluated dominates a front point, and every front point was evaluated
        assert point in evaluated
        assert not any(e <= point[0] and p <= point[1] and (e, p) != point for e, p in evaluated)
    for e, p in evaluated:  # and every evaluated network is on the front or dominated by it
        assert (e, p) in front or any(fe <= e and fp <= p for fe, fp in front)
    objectives = Objectives(["error", "params"], (3, 32, 32), 10)
    expected = hypervolume([objectives.normalised(point) for point in front])
    assert result["hypervolume"] == pytest.approx(expected)
    logbook = json.loads((out / "logbook.json").read_text())
    volumes = [r["hypervolume"] for r in logbook]
    assert volumes == sorted(volumes) and volumes[-1] == pytest.approx(expected)


@pytest.mark.parametrize("kind", MO_KINDS)
def test_same_seed_same_run(tmp_path, kind):
    _, first = search(tmp_path, kind, name="a", seed=3, budget=16)
    _, again = search(tmp_path, kind, name="b", seed=3, budget=16)
    assert rows(first) == rows(again)


@pytest.mark.parametrize("kind", ["nsga2", "bayesian_optimization"])   # the two multi-objective strategies
def test_sigkill_resume_equals_uninterrupted(tmp_path, kind):
    config = write_config(tmp_path, kind, budget=16, workers=1, name="killed", seed=3, objectives=["error", "params"],
                          objective="era_deap.training.objectives:paced_landscape")
    reference = write_config(tmp_path, kind, budget=16, name="reference", seed=3, objectives=["error", "params"],
                             objective="era_deap.training.objectives:paced_landscape")
    run_search(load_search_config(reference), tmp_path / "reference")
    out = tmp_path / "killed-run"
    for kill_after in (3, 11):
        process = start_era("search", config, "--out", out, "--resume", "--no-progress",
                            env={"ERA_OBJECTIVE_SLEEP": "0.05"})
        wait_for_results(out, kill_after, process)
        process.send_signal(signal.SIGKILL)
        process.wait()
    era("search", config, "--out", out, "--resume", "--no-progress", env={"ERA_OBJECTIVE_SLEEP": "0.05"})
    assert rows(out) == rows(tmp_path / "reference")
    assert summary(out)["front"] == summary(tmp_path / "reference")["front"]


def test_a_failed_evaluation_never_enters_the_front(tmp_path):
    result, out = search(tmp_path, "nsga2", budget=30, objective="era_deap.training.objectives:flaky_landscape",
                         evaluator={"max_failure_fraction": 0.9})
    failed = {r["key"] for r in rows(out) if r["status"] != "ok"}
    assert failed and not failed & {f["key"] for f in result["front"]}


def test_a_cost_of_ones_own_and_macs(tmp_path):
    (tmp_path / "my_costs.py").write_text("def depth_cost(arch, result):\n    return float(sum(arch['sections']))\n")
    import sys
    sys.path.insert(0, str(tmp_path))
    try:
        result, out = search(tmp_path, "random_search", objectives=("error", "macs", "my_costs:depth_cost"), budget=12)
    finally:
        sys.path.remove(str(tmp_path))
    assert result["objectives"] == ["error", "macs", "my_costs:depth_cost"]
    for point in result["front"]:
        assert point["objectives"]["my_costs:depth_cost"] == sum(point["arch"]["sections"])


def test_objectives_are_checked_before_the_search(tmp_path):
    result = era("search", write_config(tmp_path, "nsga2", objectives=["error", "flops"]), "--out", tmp_path / "r",
                 check=False)
    assert result.returncode == 2 and "objectives: expected distinct objectives starting with error" in result.stderr
    result = era("search", write_config(tmp_path, "nsga2", name="own", objectives=["error", "nowhere:cost"]),
                 "--out", tmp_path / "r2", check=False)
    assert result.returncode == 2 and "objectives (nowhere:cost): cannot import module 'nowhere'" in result.stderr
    assert not (tmp_path / "r").exists() and not (tmp_path / "r2").exists()


@pytest.mark.parametrize("flow", [{"workers": 2}, {"ask_batch": 7}])
def test_nsga2_with_several_evaluations_in_flight_asks_children_before_its_population_is_complete(tmp_path, flow):
    """Children asked while random members are still out (two workers, or a batch of 7 asks) come from
    the population told so far, ranked; the run finishes (it crashed on a member without a rank)."""
    workers, top = flow.get("workers", 0), {k: v for k, v in flow.items() if k != "workers"}
    result, out = search(tmp_path, "nsga2", budget=40, workers=workers, **top)
    table = rows(out)
    assert result["finished"] and result["trained"] == 40
    assert len({r["key"] for r in table if r["cached"] == "0"}) == 40
