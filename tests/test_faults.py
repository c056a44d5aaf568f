"""Fault injection (issue 8): repeated kills, signals, disk full, stale locks, failing objectives and
bad input. The journal must never lose a finished evaluation nor train one twice beyond those in
flight at a kill."""
import errno
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from conftest import CONFIGS
from searchkit import KINDS, era, journal_results, rows, start_era, summary, wait_for_results, write_config

from era_deap.cli import main
from era_deap.search import rundir
from era_deap.search.run import run_search
from era_deap.search.safe_write import WriteFailed
from era_deap.search.strategy import make_strategy
from era_deap.settings import load_search_config, search_config_from
from era_deap.space.space import default_space


@pytest.mark.parametrize("kind", KINDS)
def test_killed_again_and_again_until_done_equals_an_uninterrupted_run(tmp_path, kind):
    budget = 12
    objective = "era_deap.training.objectives:paced_landscape"
    reference = tmp_path / "reference"
    run_search(load_search_config(write_config(tmp_path, kind, budget=budget, objective=objective,
                                               name="reference")), reference)
    config = write_config(tmp_path, kind, budget=budget, objective=objective, name="killed")
    out, log = tmp_path / "killed", tmp_path / "trainings.log"
    env = {"ERA_OBJECTIVE_SLEEP": "0.08", "ERA_OBJECTIVE_LOG": str(log)}
    rng = random.Random(f"{kind}-kills")
    # Kill points chosen by progress (results in the journal), each plus a random delay, so the kills
    # land at random moments (start-up, training, writing) whatever the machine's speed.
    targets = sorted(rng.choices(range(0, budget - 1), k=4))
    kills, progress = 0, [0]
    for target in targets:
        process = start_era("search", config, "--out", out, "--resume", "--no-progress", env=env)
        wait_for_results(out, target, process)
        time.sleep(rng.uniform(0.0, 0.15))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            kills += 1
        process.wait()
        progress.append(journal_results(out))
        assert progress[-1] >= progress[-2]  # progress never goes backwards
    era("search", config, "--out", out, "--resume", "--no-progress", env=env)
    assert kills >= 3
    assert rows(out) == rows(reference)
    trainings = len(log.read_text().splitlines())
    assert budget <= trainings <= budget + kills  # at most the one in flight is redone per kill
    assert summary(out)["finished"]


def test_ctrl_c_exits_130_and_resume_retrains_only_the_interrupted(tmp_path):
    config = write_config(tmp_path, "random_search", budget=6, objective="era_deap.training.objectives:paced_landscape")
    out, log = tmp_path / "run", tmp_path / "trainings.log"
    env = {"ERA_OBJECTIVE_SLEEP": "0.5", "ERA_OBJECTIVE_LOG": str(log)}
    process = start_era("search", config, "--out", out, "--no-progress", env=env)
    deadline = time.monotonic() + 60
    while journal_results(out) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.1)  # inside the next 0.5 s evaluation: one is in flight
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    journal = (out / rundir.JOURNAL).read_text()
    interrupted = journal.count('"type":"interrupted"')
    assert interrupted == 1 and '"signal":"SIGINT"' in journal
    done_before = journal_results(out)
    era("search", config, "--out", out, "--resume", "--no-progress", env={**env, "ERA_OBJECTIVE_SLEEP": "0"})
    assert summary(out)["trained"] == 6
    assert len(log.read_text().splitlines()) == 6 + interrupted  # only the interrupted one trained twice
    assert done_before >= 2


def test_a_stale_lock_of_a_dead_process_is_taken_over_with_a_warning(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    out = tmp_path / "run"
    out.mkdir()
    (out / rundir.LOCK).write_text(dead)
    config = load_search_config(write_config(tmp_path, "evolution", budget=4))
    with pytest.warns(UserWarning, match=rf"taking over the lock left by process {dead}"):
        run_search(config, out)


def test_disk_full_is_a_clear_error_and_nothing_finished_is_lost(tmp_path, monkeypatch, capsys):
    import era_deap.search.journal as journal_module
    config_path = write_config(tmp_path, "regularized_evolution", budget=15)
    out = tmp_path / "run"
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync_until_full(fd):
        calls["n"] += 1
        if calls["n"] > 12:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_fsync(fd)

    monkeypatch.setattr(journal_module.os, "fsync", fsync_until_full)
    code = main(["search", str(config_path), "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"cannot write {out / rundir.JOURNAL}: No space left on device" in err and "--resume" in err
    assert err.count("\n") == 1
    monkeypatch.setattr(journal_module.os, "fsync", real_fsync)
    kept = journal_results(out)
    assert kept >= 4
    run_search(load_search_config(config_path), out, resume=True)
    reference = tmp_path / "reference"
    run_search(load_search_config(config_path), reference)
    assert rows(out) == rows(reference)


def test_a_read_only_run_dir_is_a_clear_error(tmp_path, monkeypatch):
    import era_deap.search.safe_write as safe_write
    config = load_search_config(write_config(tmp_path, "random_search", budget=4))
    real_replace = os.replace

    def refuse(src, dst):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(safe_write.os, "replace", refuse)
    with pytest.raises(WriteFailed, match=r"cannot write .*config.yaml: Read-only file system"):
        run_search(config, tmp_path / "run")
    monkeypatch.setattr(safe_write.os, "replace", real_replace)


@pytest.mark.parametrize("kind", ["evolution", "regularized_evolution", "crossover_evolution"])
def test_failed_genomes_are_never_parents_nor_in_the_hall_of_fame(tmp_path, kind):
    from strategy_loop import evaluate

    from era_deap.space.genome import to_arch
    from era_deap.training.objectives import flaky_landscape

    space = default_space()
    config = search_config_from({"name": "x", "strategy": {"kind": kind, "population_size": 8}}).strategy
    strategy = make_strategy(space, config, seed=3)
    failed = set()
    for n in range(120):
        individual = strategy.ask()
        result = evaluate(flaky_landscape, to_arch(individual), n)
        individual.fitness.values = (result.fitness,)
        if not result.ok:
            failed.add(space.key(individual))
        strategy.tell(individual, result)
        assert not any(space.key(p) in failed for p in strategy.population)
    assert len(failed) > 10
    out = tmp_path / "run"
    run_search(load_search_config(write_config(tmp_path, kind, objective="era_deap.training.objectives:flaky_landscape",
                                               budget=30, evaluator={"max_failure_fraction": 0.9})), out)
    import json
    hall = json.loads((out / rundir.HALL_OF_FAME_JSON).read_text())
    statuses = {r["key"]: r["status"] for r in rows(out)}
    assert hall and all(statuses[entry["key"]] == "ok" for entry in hall)


QUICK_SPACE = f"space: {CONFIGS / 'quick' / 'space.yaml'}\n"
BAD_CONFIGS = {
    "malformed YAML": ("name: x\nstrategy: {kind: evolution\n", r"search.yaml:3:1: malformed YAML"),
    "unknown key": ("name: x\nstrategy: {kind: evolution}\nbudgte: 3\n",
                    r"search.yaml:3: unknown key budgte; did you mean budget\?"),
    "wrong type": ("name: x\nstrategy: {kind: evolution}\nbudget: lots\n",
                   r"search.yaml:3: budget: expected an integer, got 'lots'"),
    "budget 0": ("name: x\nstrategy: {kind: evolution}\nbudget: 0\n",
                 r"search.yaml:3: budget: expected a value >= 1, got 0"),
    "tournament > population": ("name: x\nstrategy: {kind: evolution, population_size: 3, tournament_size: 4}\n",
                                r"search.yaml:2: strategy.tournament_size: "
                                r"expected at most population_size \(3\), got 4"),
    "missing space": ("name: x\nspace: none.yaml\nstrategy: {kind: evolution}\n",
                      r"search.yaml:2: space: file not found: .*none.yaml"),
    "gene value not in the space": ("", r"space.yaml:5: genes.block: "
                                        r"expected values among basic, bottleneck, got 'wide'"),
    "unknown objective": ("name: x\nstrategy: {kind: random_search}\n"
                          "evaluator: {objective: 'nowhere.module:f', workers: 0}\n",
                          r"evaluator.objective"),
    # Found by the search only after some evaluations before (#26.6, #26.7): now before anything runs.
    # (QUICK_SPACE: the table's own space.)
    "ASHA evolution tournament > population": (
        "name: x\nstrategy: {kind: asha, propose: evolution, population_size: 3, tournament_size: 5}\n"
        "evaluator: {objective: table, table: digits-quick}\n" + QUICK_SPACE,
        r"search.yaml:2: strategy.tournament_size: expected at most population_size \(3\) with propose: evolution"),
    "ASHA min_epochs above the table's schedule": (
        "name: x\nstrategy: {kind: asha, min_epochs: 13}\nevaluator: {objective: table, table: digits-quick}\n"
        + QUICK_SPACE,
        r"search.yaml: strategy.min_epochs: expected at most max_epochs \(12: the search schedule's epochs\), got 13"),
    "statistic that fails on a population of one": (
        "name: x\nstrategy: {kind: evolution}\nevaluator: {objective: table, table: digits-quick}\n"
        "statistics: {spread: 'statistics:stdev'}\n" + QUICK_SPACE,
        r"search.yaml: statistics.spread: statistics:stdev raised StatisticsError: .* population of 1"),
    "select kwargs not a mapping": (
        "name: x\nstrategy: {kind: evolution, select: {function: 'deap.tools:selTournament', kwargs: [3]}}\n",
        r"search.yaml:2: strategy.select.kwargs: expected a mapping, got \[3\]"),
    "statistic that takes no tuple": (
        "name: x\nstrategy: {kind: evolution}\nevaluator: {objective: table, table: digits-quick}\n"
        "statistics: {root: 'math:sqrt'}\n" + QUICK_SPACE,
        r"search.yaml: statistics.root: math:sqrt raised TypeError"),
}


@pytest.mark.parametrize("case", BAD_CONFIGS)
def test_bad_configs_are_one_line_errors_with_exit_code_2(tmp_path, case):
    text, message = BAD_CONFIGS[case]
    config = tmp_path / "search.yaml"
    if case == "gene value not in the space":
        from conftest import CONFIGS
        space = (CONFIGS / "space.yaml").read_text().replace("[basic, bottleneck]", "[basic, wide]")
        (tmp_path / "space.yaml").write_text(space)
        text = "name: x\nspace: space.yaml\nstrategy: {kind: evolution}\n"
    config.write_text(text)
    result = era("search", config, "--out", tmp_path / "run", "--no-progress", check=False)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    import re
    assert re.search(message, result.stderr), result.stderr


@pytest.mark.parametrize("flags, message", [
    (["--budget", "0"], r"argument --budget: expected a positive integer, got '0'"),
    (["--workers", "-1"], r"argument --workers: expected a non-negative integer, got '-1'"),
    (["--seed", "x"], r"argument --seed: invalid int value: 'x'"),
])
def test_bad_flags_are_one_line_errors_with_exit_code_2(tmp_path, flags, message):
    config = write_config(tmp_path, "evolution")
    result = era("search", config, *flags, check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    import re
    assert re.search(message, result.stderr), result.stderr


@pytest.mark.parametrize("objective, death", [("crashing_landscape", "exited with code 3"),
                                               ("segfaulting_landscape", "killed by signal 11 (SIGSEGV)")])
def test_a_worker_process_that_dies_costs_its_evaluation_not_the_search(tmp_path, objective, death):
    config = load_search_config(write_config(tmp_path, "random_search", budget=12, workers=2,
                                             objective=f"era_deap.training.objectives:{objective}",
                                             evaluator={"max_failure_fraction": 0.9}))
    result = run_search(config, tmp_path / "run")
    table = rows(tmp_path / "run")
    died = [r for r in table if r["status"] == "error"]
    assert result["finished"] and result["trained"] == 12 and len({r["key"] for r in table}) == 12
    assert died and all(death in r["message"] and "CUDA" not in r["message"] for r in died)
    from era_deap.training.objectives import landscape
    for r in table:
        if r["status"] == "ok":
            arch = {"block": r["block"], "sections": [int(r[s]) for s in ("s1", "s2", "s3", "s4")],
                    "filters": int(r["filters"]), "filter_update": int(r["filter_update"]),
                    "group_size": int(r["group_size"])}
            assert (sum(arch["sections"]) + arch["filters"]) % 5 != 0
            assert float(r["error"]) == landscape(arch)


def test_a_run_resumes_with_its_statistics_changed_and_its_logbook_has_the_new_ones(tmp_path):
    # A statistic that failed mid-run (or is just replaced) must not lock the run: the logbook is
    # recomputed from the journal on resume.
    def config(statistics, budget):
        objective = "era_deap.training.objectives:landscape"
        return load_search_config(write_config(tmp_path, "evolution", objective=objective, budget=budget,
                                               statistics=statistics))
    out = tmp_path / "run"
    run_search(config({"spread": "numpy:std"}, 10), out)
    run_search(config({"worst": "builtins:max"}, 14), out, resume=True)
    import json
    logbook = json.loads((out / rundir.LOGBOOK_JSON).read_text())
    with_population = [r for r in logbook if r.get("population_best") is not None]
    assert with_population and all("worst" in r and "spread" not in r for r in with_population)
