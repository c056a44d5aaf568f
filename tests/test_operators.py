"""Tweaking DEAP operators: every mistake of a new user is one line before any training (exit 2, no
run directory), DEAP's own operators run as DEAP users expect, an operator failing mid-run stops the
search and `--resume` with the operator fixed keeps every network, and deterministic batches give
the same run with any number of workers."""
import json
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import CONFIGS
from searchkit import era, rows, summary

from era_deap.search.run import run_search
from era_deap.settings import load_search_config
from era_deap.space.space import load_space

HERE = Path(__file__).resolve().parent
QUICK_SPACE = CONFIGS / "quick" / "space.yaml"


def config(tmp_path, strategy, name="ops", objective="era_deap.training.objectives:landscape", budget=30, **top):
    shutil.copy(HERE / "user_operators.py", tmp_path / "user_operators.py")
    data = {"name": name, "space": str(QUICK_SPACE), "seed": 1, "budget": budget,
            "strategy": {"kind": "regularized_evolution", "population_size": 8, **strategy},
            "evaluator": {"objective": objective, "workers": 0}, **top}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def refused(tmp_path, path, *expected, workers=None):
    args = ["search", path, "--out", tmp_path / "run", "--no-progress"]
    result = era(*args, *(["--workers", workers] if workers is not None else []), check=False, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    assert not (tmp_path / "run").exists()
    return lines[0]


@pytest.mark.parametrize("strategy, expected", [
    ({"mutate": {"function": "era_deap.operators:mut_uniform_reset", "kwargs": {"n_gene": 2}}},
     ["strategy.mutate.kwargs:", "n_gene", "its keyword arguments: space, n_genes"]),
    ({"mutate": "user_operators:mut_returns_individual"},
     ["strategy.mutate: user_operators:mut_returns_individual returned", "expected a tuple of 1 DEAP individual"]),
    ({"mutate": "user_operators:mut_returns_list"}, ["strategy.mutate:", "no fitness"]),
    ({"mutate": {"function": "deap.tools:mutUniformInt", "kwargs": {"low": 0, "up": 3, "indpb": 0.5}}},
     ["strategy.mutate: deap.tools:mutUniformInt made a genome outside the space", "strategy.encoding: positions"]),
    ({"select": "deap.tools:selTournament"}, ["strategy.select.kwargs:", "tournsize"]),
    ({"mate": "user_operators:no_such_function"}, ["strategy.mate.function: module 'user_operators' has no callable"]),
])
def test_an_operator_mistake_is_one_line_before_any_training(tmp_path, strategy, expected):
    refused(tmp_path, config(tmp_path, strategy), *expected)


def test_a_mistyped_objective_is_one_line_before_worker_processes_start(tmp_path):
    path = config(tmp_path, {}, objective="era_deap.training.objectives:landscap")
    refused(tmp_path, path, "evaluator.objective: module 'era_deap.training.objectives' has no callable 'landscap'",
            workers=2)


def test_deaps_integer_operators_and_selection_run_unchanged_on_positions(tmp_path):
    path = config(tmp_path, {"encoding": "positions", "kind": "crossover_evolution",
                             "mutate": {"function": "deap.tools:mutUniformInt", "kwargs": {"indpb": 0.2}},
                             "mate": "deap.tools:cxTwoPoint",
                             "select": {"function": "deap.tools:selTournament", "kwargs": {"tournsize": 3}}},
                  budget=60)
    result = run_search(load_search_config(path), tmp_path / "run")
    operators = result["operators"]
    assert result["finished"] and operators["children"] >= 40 and operators["invalid"] == 0
    space = load_space(QUICK_SPACE)
    assert all(r["status"] == "ok" for r in rows(tmp_path / "run"))
    assert all(space.is_valid([r["block"], *(int(r[g]) for g in ("s1", "s2", "s3", "s4", "filters",
                                                                     "filter_update", "group_size"))])
               for r in rows(tmp_path / "run"))
    logbook = json.loads((tmp_path / "run" / "logbook.json").read_text())
    children = [r for r in logbook if "remutations" in r]
    assert len(children) == operators["children"]
    assert sum(r["remutations"] > 0 for r in children) == operators["remutated"]


def test_the_logbook_and_summary_count_invalid_noop_and_remutated_children(tmp_path):
    # mutShuffleIndexes on values swaps genes' values between genes: mostly outside the space.
    path = config(tmp_path, {"mutate": {"function": "deap.tools:mutShuffleIndexes", "kwargs": {"indpb": 0.3}}})
    with pytest.raises(Exception, match="strategy.mutate: deap.tools:mutShuffleIndexes made a genome outside"):
        run_search(load_search_config(path), tmp_path / "run")
    path = config(tmp_path, {"mutate": {"function": "deap.tools:mutShuffleIndexes", "kwargs": {"indpb": 0.3}},
                             "encoding": "positions"}, name="shuffled")
    result = run_search(load_search_config(path), tmp_path / "shuffled")
    counts = result["operators"]
    assert counts["children"] == 30 - 8 and counts["noop"] > 0      # a shuffle often changes nothing
    assert counts["invalid"] == 0                                     # positions are clamped into range


def test_an_operator_failing_mid_run_stops_with_one_line_and_resume_keeps_every_network(tmp_path):
    path = config(tmp_path, {"mutate": "user_operators:mut_fails_later"}, budget=30)
    env = {"ERA_FAIL_AFTER": "20"}   # the dry-run makes 8 calls: the search's 12th child breaks it
    result = era("search", path, "--out", tmp_path / "run", "--no-progress", env=env, check=False, cwd=tmp_path)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "strategy.mutate: user_operators:mut_fails_later raised ValueError: this operator breaks" in lines[0]
    assert "--resume" in lines[0]
    before = rows(tmp_path / "run")
    assert summary(tmp_path / "run")["stop_reason"] == "operator" and 8 < len(before) < 30
    fixed = config(tmp_path, {"mutate": "era_deap.operators:mut_uniform_reset"}, budget=30)
    era("search", fixed, "--out", tmp_path / "run", "--resume", "--no-progress", cwd=tmp_path)
    after = rows(tmp_path / "run")
    assert after[:len(before)] == before and summary(tmp_path / "run")["finished"]
    assert len([r for r in after if r["cached"] == "0"]) == 30
    journal = (tmp_path / "run" / "journal.jsonl").read_text()
    assert journal.count('"type":"result"') == len(after)          # nothing evaluated twice


def test_a_resume_may_not_change_what_was_measured(tmp_path):
    path = config(tmp_path, {}, budget=12)
    run_search(load_search_config(path), tmp_path / "run")
    changed = config(tmp_path, {}, budget=12, objective="era_deap.training.objectives:noisy_landscape")
    result = era("search", changed, "--out", tmp_path / "run", "--resume", check=False, cwd=tmp_path)
    assert result.returncode == 2 and "evaluator.objective" in result.stderr


def test_deterministic_batches_give_the_same_run_with_any_number_of_workers(tmp_path):
    (tmp_path / "slow_random.py").write_text(
        "import random, time\nfrom era_deap.training.objectives import landscape\n"
        "def objective(arch, seed):\n"
        "    time.sleep(random.Random(seed).uniform(0.0, 0.05))  # finishing order depends on the workers\n"
        "    return landscape(arch)\n")
    outs = []
    for name, workers in (("one", 1), ("two", 2), ("two-again", 2)):
        path = config(tmp_path, {"population_size": 6}, name=name, objective="slow_random:objective", budget=20,
                      ask_batch=3)
        era("search", path, "--out", tmp_path / name, "--workers", workers, "--no-progress", cwd=tmp_path)
        outs.append(rows(tmp_path / name))
    assert outs[0] == outs[1] == outs[2]


def test_the_logbook_compiles_deap_statistics_of_the_population_including_the_users_own(tmp_path):
    import numpy
    path = config(tmp_path, {}, budget=20, statistics={"population_std": "numpy:std",
                                                          "population_worst": "builtins:max"})
    run_search(load_search_config(path), tmp_path / "run")
    logbook = json.loads((tmp_path / "run" / "logbook.json").read_text())
    last = logbook[-1]
    table = rows(tmp_path / "run")
    assert {"population_best", "population_mean", "population_std", "population_worst"} <= set(last)
    assert last["population_best"] >= last["best"] and last["population_worst"] >= last["population_mean"]
    assert last["population"] == 8 and last["population_std"] > 0
    # Regularized evolution's population after 20 evaluations is the 8 youngest successes.
    youngest = [float(r["error"]) for r in table if r["status"] == "ok"][-8:]
    assert last["population_std"] == pytest.approx(float(numpy.std(youngest)))
    assert last["population_worst"] == max(youngest) and last["population_best"] == min(youngest)


def test_evolution_over_a_whole_small_space_falls_back_to_unasked_networks_instead_of_spinning(tmp_path):
    """Late in a run that covers a small space, every re-mutation lands on an asked network: the child
    is an unasked network instead, so the run trains every network with few cache hits."""
    (tmp_path / "small.yaml").write_text("genes:\n  block: [basic, bottleneck]\n  s1: [0, 1]\n  s2: [1, 2]\n"
                                         "  s3: [1, 2]\n  s4: [1, 2]\n  filters: [2, 4]\n  filter_update: [1]\n"
                                         "  group_size: [1]\n")
    space = load_space(tmp_path / "small.yaml")
    path = config(tmp_path, {"population_size": 6, "max_mutation_retries": 20}, budget=space.n_unique,
                  space=str(tmp_path / "small.yaml"))
    result = run_search(load_search_config(path), tmp_path / "run")
    assert result["trained"] == space.n_unique == 64 and result["stop_reason"] == "budget"
    assert result["operators"]["fallback"] > 0
    assert result["cached"] == 0                  # without the fallback: 365 cache hits here


def test_a_deap_integer_operator_without_positions_names_the_fix(tmp_path):
    path = config(tmp_path, {"mutate": {"function": "deap.tools:mutUniformInt", "kwargs": {"indpb": 0.2}}})
    with pytest.raises(Exception, match=r"strategy.mutate.kwargs: deap.tools:mutUniformInt missing a required "
                                        r"argument: 'low' .*; with `strategy.encoding: positions` the genes are "
                                        r"integer positions and era-deap passes `low` and `up` itself"):
        run_search(load_search_config(path), tmp_path / "run")
