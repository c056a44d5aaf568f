"""era_deap.Problem: a DEAP loop over the ERA space through the driver (era_deap/api/problem.py,
era_deap/search/script.py): reproducible by seed, replayed after SIGKILL without training twice, parallel
`map` equal to in-process evaluation and in order, the budget, failures, a changed script."""
import json
import os
import subprocess
import sys
import time

import pytest
import yaml
from conftest import ROOT
from deap import algorithms
from searchkit import rows

import era_deap
from era_deap.space.genome import to_arch
from era_deap.training.objectives import landscape
from era_deap.training.result import WORST_ERROR

TESTS = ROOT / "tests"
QUICK_SPACE = ROOT / "configs" / "quick" / "space.yaml"
LOOP = TESTS / "deap_loop.py"


def config_file(tmp_path, objective="counted_objective:counted", **evaluator) -> str:
    path = tmp_path / "problem.yaml"
    path.write_text(yaml.safe_dump({"name": "mine", "space": str(QUICK_SPACE), "budget": 20,
                                    "evaluator": {"objective": objective, "workers": 0, **evaluator}}))
    return str(path)


def script_env(**extra) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]), **extra}


def deap_loop(problem, mu=6, ngen=100):
    toolbox = problem.toolbox()
    try:
        algorithms.eaMuPlusLambda(toolbox.population(n=mu), toolbox, mu=mu, lambda_=mu, cxpb=0.3, mutpb=0.7,
                                  ngen=ngen, verbose=False)
    except era_deap.BudgetExhausted:
        pass
    problem.close()


def results(out) -> int:
    journal = out / "journal.jsonl"
    if not journal.exists():
        return 0
    return sum(1 for line in journal.read_text().splitlines() if line.endswith("}") and '"type":"result"' in line)


def test_a_deap_loop_through_the_toolbox_is_reproducible_by_seed(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    config = config_file(tmp_path)
    for out, seed in (("a", 0), ("b", 0), ("c", 1)):
        deap_loop(era_deap.Problem(config, out=tmp_path / out, seed=seed))
    first = rows(tmp_path / "a")
    assert len([r for r in first if r["cached"] == "0"]) == 20 and any(r["cached"] == "1" for r in first)
    assert rows(tmp_path / "b") == first
    assert rows(tmp_path / "c") != first     # the seed decides the run
    run = era_deap.load_run(tmp_path / "a")
    assert run.summary["finished"] and run.summary["stop_reason"] == "budget" and run.config.strategy.kind == "deap"
    assert len(run.logbook) == len(first) and run.hall_of_fame[0].fitness.values[0] == run.best.error


def test_sigkill_mid_script_and_a_rerun_give_the_uninterrupted_run_without_training_twice(tmp_path, monkeypatch):
    config = config_file(tmp_path)
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    trainings = {name: tmp_path / f"{name}.trainings" for name in ("reference", "killed")}
    monkeypatch.syspath_prepend(str(TESTS))
    monkeypatch.setenv("ERA_TEST_TRAININGS", str(trainings["reference"]))
    deap_loop(era_deap.Problem(config, out=reference, budget=20, seed=0))     # what tests/deap_loop.py does
    process = subprocess.Popen([sys.executable, str(LOOP), config, str(killed), "20"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE,
                               env=script_env(ERA_TEST_TRAININGS=str(trainings["killed"]), ERA_TEST_SLEEP="0.2"))
    # Kill it in the middle of a training, once 8 results (the first batch and some of the second) are journaled.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        lines = trainings["killed"].read_text().splitlines() if trainings["killed"].exists() else []
        if results(killed) >= 8 and lines and lines[-1].startswith("start"):
            process.kill()
            break
        time.sleep(0.005)
    assert process.wait() == -9, process.stderr.read()
    cut = results(killed)
    assert 8 <= cut < 20
    rerun = subprocess.run([sys.executable, str(LOOP), config, str(killed), "20"], capture_output=True, text=True,
                           env=script_env(ERA_TEST_TRAININGS=str(trainings["killed"])))
    assert rerun.returncode == 0, rerun.stderr
    assert rows(killed) == rows(reference)
    ended = [line.split()[1] for line in trainings["killed"].read_text().splitlines() if line.startswith("end")]
    assert len(ended) == len(set(ended)) == 20          # no network trained twice
    reference_ended = [line.split()[1] for line in trainings["reference"].read_text().splitlines()
                       if line.startswith("end")]
    assert sorted(ended) == sorted(reference_ended)


def test_map_over_two_workers_gives_the_in_process_fitnesses_in_order(tmp_path):
    config = config_file(tmp_path, objective="era_deap.training.objectives:landscape")
    fitnesses, problems = {}, {}
    for workers in (0, 2):
        problem = problems[workers] = era_deap.Problem(config, out=tmp_path / f"w{workers}", workers=workers, seed=3)
        toolbox = problem.toolbox()
        population = toolbox.population(n=10)
        population[4] = toolbox.clone(population[1])            # asked twice: once trained, once cached
        population[7][5] = 3                                    # 3 filters: not in the space, invalid
        fitnesses[workers] = toolbox.map(toolbox.evaluate, population)
        problem.close()
    assert fitnesses[2] == fitnesses[0]
    expected = [(landscape(to_arch(individual)),) for individual in population]
    expected[7] = (WORST_ERROR,)
    assert fitnesses[2] == expected
    workers = {r["worker"] for r in rows(tmp_path / "w2", drop=())}
    assert {w.split(":")[0] for w in workers if w} == {"w0", "w1"}
    assert rows(tmp_path / "w2") == rows(tmp_path / "w0")


def test_the_budget_counts_unique_networks_and_its_end_is_an_exception_cache_hits_stay_free(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    problem = era_deap.Problem(config_file(tmp_path), out=tmp_path / "run", budget=3, seed=0)
    space = problem.space
    networks = [space.individual(space.draw()) for _ in range(40)]
    distinct = list({space.key(n): n for n in networks}.values())[:4]
    assert problem.map(problem.evaluate, [distinct[0], distinct[1], distinct[0]])[0] == \
        (landscape(to_arch(distinct[0])),)
    assert problem.budget_left == 1 and not problem.exhausted
    with pytest.raises(era_deap.BudgetExhausted, match="budget of 3"):
        problem.map(problem.evaluate, [distinct[2], distinct[3], distinct[1]])
    assert problem.exhausted
    with pytest.raises(era_deap.BudgetExhausted):
        problem.evaluate(distinct[3])
    assert problem.evaluate(distinct[0]) == (landscape(to_arch(distinct[0])),)     # a cache hit: free
    problem.close()
    evaluations = era_deap.load_run(tmp_path / "run").evaluations
    assert [e.key for e in evaluations if not e.cached] == [space.key(n) for n in distinct[:3]]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["trained"] == 3 and summary["stop_reason"] == "budget" and summary["finished"]


def test_a_failed_network_gets_the_worst_fitness_and_the_loop_goes_on(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    problem = era_deap.Problem(config_file(tmp_path, objective="counted_objective:fails_on_bottleneck",
                                           max_failure_fraction=1.0), out=tmp_path / "run", budget=8, seed=0)
    basic = problem.space.individual(["basic", 1, 1, 1, 1, 4, 2, 4])
    bottleneck = problem.space.individual(["bottleneck", 1, 1, 1, 1, 4, 2, 4])
    assert problem.map(problem.evaluate, [bottleneck, basic]) == [(WORST_ERROR,), (landscape(to_arch(basic)),)]
    problem.close()
    statuses = [e.status for e in era_deap.load_run(tmp_path / "run").evaluations]
    assert statuses == ["error", "ok"]


def test_a_rerun_that_asks_another_genome_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    config, out = config_file(tmp_path), tmp_path / "run"
    with era_deap.Problem(config, out=out) as problem:
        first = problem.space.individual(["basic", 1, 1, 1, 1, 4, 2, 4])
        problem.evaluate(first)
    with era_deap.Problem(config, out=out) as problem:
        assert problem.evaluate(first) == (landscape(to_arch(first)),)      # replayed
        assert problem.run().summary["trained"] == 1
    with era_deap.Problem(config, out=out) as problem:
        with pytest.raises(era_deap.ReplayMismatch, match=r"journal.jsonl: line \d+: the script asked "
                                                          r"\['basic', 1, 1, 1, 1, 8, 2, 4\] as evaluation 0"):
            problem.evaluate(problem.space.individual(["basic", 1, 1, 1, 1, 8, 2, 4]))


def test_fresh_moves_the_earlier_run_aside_and_starts_anew(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(TESTS))
    config, out = config_file(tmp_path, objective="era_deap.training.objectives:landscape"), tmp_path / "run"
    first = era_deap.Problem(config, out=out, seed=0)
    toolbox = first.toolbox()
    toolbox.map(toolbox.evaluate, toolbox.population(n=4))
    first.close()
    said = []
    again = era_deap.Problem(config, out=out, seed=0, fresh=True, log=said.append)
    again.close()
    aside = [path for path in tmp_path.iterdir() if path.is_dir() and path.name.startswith("run") and path != out]
    assert len(aside) == 1 and len(rows(aside[0])) == 4, said
    assert said and str(aside[0]) in said[0]
    assert not (out / "evaluations.csv").exists() or rows(out) == []
