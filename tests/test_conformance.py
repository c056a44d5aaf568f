"""The conformance suite every strategy passes (issue 4 §6, docs/design.md §7): budget, no genome
trained twice, validity, seed reproducibility also across processes, failures, SIGKILL + resume."""
import random
import signal

import pytest
from conftest import CONFIGS
from searchkit import KINDS, era, rows, start_era, summary, wait_for_results, write_config

from era_deap.search.run import run_search
from era_deap.settings import load_search_config
from era_deap.space.space import load_space

SPACE = load_space(CONFIGS / "space.yaml")


def search(tmp_path, kind, name="run", **kwargs):
    config = load_search_config(write_config(tmp_path, kind, **kwargs))
    out = tmp_path / name
    return run_search(config, out), out


@pytest.mark.parametrize("kind", KINDS)
def test_budget_validity_and_no_network_trained_twice(tmp_path, kind):
    result, out = search(tmp_path, kind, budget=24)
    table = rows(out)
    trained = [r for r in table if r["cached"] == "0"]
    assert result["finished"] and result["stop_reason"] == "budget"
    assert len(trained) == result["trained"] == 24
    keys = [r["key"] for r in trained]
    assert len(set(keys)) == len(keys)
    for r in table:
        genome = [r["block"], *(int(r[g]) for g in ("s1", "s2", "s3", "s4", "filters", "filter_update", "group_size"))]
        assert SPACE.is_valid(genome) and SPACE.canonical(genome) == genome and SPACE.key(genome) == r["key"]
    assert [int(r["index"]) for r in table] == list(range(1, len(table) + 1))


@pytest.mark.parametrize("kind", KINDS)
def test_same_seed_same_evaluations_across_processes_and_other_seed_differs(tmp_path, kind):
    _, first = search(tmp_path, kind, name="a", seed=5)
    _, again = search(tmp_path, kind, name="b", seed=5)
    assert rows(first) == rows(again)
    config = write_config(tmp_path, kind, seed=5, name=f"{kind}-cli", workers=1)
    era("search", config, "--out", tmp_path / "c", "--no-progress")
    assert rows(tmp_path / "c") == rows(first)
    _, other = search(tmp_path, kind, name="d", seed=6)
    assert [r["key"] for r in rows(other)] != [r["key"] for r in rows(first)]


@pytest.mark.parametrize("kind", KINDS)
def test_failures_are_recorded_and_never_best(tmp_path, kind):
    # A third of the genomes fail; the stop rule (most evaluations failing) is tested in test_search.
    result, out = search(tmp_path, kind, objective="era_deap.training.objectives:flaky_landscape", budget=30,
                         evaluator={"max_failure_fraction": 0.9})
    table = rows(out)
    statuses = {r["status"] for r in table}
    assert "ok" in statuses and statuses & {"error", "diverged"}
    assert result["trained"] == 30 and result["finished"]
    for r in table:
        assert (r["error"] == "") == (r["status"] != "ok")
        if r["status"] != "ok":
            assert r["message"]
    ok = [float(r["error"]) for r in table if r["status"] == "ok"]
    assert result["best"]["error"] == min(ok)


@pytest.mark.parametrize("kind", KINDS)
def test_sigkill_and_resume_equals_uninterrupted(tmp_path, kind):
    budget = 16
    _, reference = search(tmp_path, kind, name="reference", budget=budget,
                          objective="era_deap.training.objectives:paced_landscape")
    config = write_config(tmp_path, kind, budget=budget, workers=1, name=f"{kind}-killed",
                          objective="era_deap.training.objectives:paced_landscape")
    out = tmp_path / "killed"
    rng = random.Random(kind)
    env = {"ERA_OBJECTIVE_SLEEP": "0.05"}
    for kill_after in sorted(rng.sample(range(1, budget - 1), 2)):
        process = start_era("search", config, "--out", out, "--resume", "--no-progress", env=env)
        wait_for_results(out, kill_after, process)
        process.send_signal(signal.SIGKILL)
        process.wait()
    era("search", config, "--out", out, "--resume", "--no-progress", env=env)
    assert rows(out) == rows(reference)
    assert summary(out)["finished"] and summary(out)["trained"] == budget


# Every strategy, and the multi-objective ones on error x params (ParEGO is BO on several objectives).
BATCH_RUNS = [(kind, None) for kind in (*KINDS, "nsga2", "asha", "hyperband")] + \
    [("nsga2", ["error", "params"]), ("bayesian_optimization", ["error", "params"])]


@pytest.mark.parametrize("kind, objectives", BATCH_RUNS)
def test_ask_batch_resumes_a_journal_cut_inside_a_batch_to_the_uninterrupted_run(tmp_path, kind, objectives):
    """A kill inside a batch or between two (the journal cut after any result, as a SIGKILL there leaves it):
    the resumed run keeps the batch boundaries and ends with the uninterrupted run's evaluations."""
    import shutil

    from era_deap.search import rundir
    budget, batch = 24, 5
    objective = "era_deap.training.objectives:" + ("curved_landscape" if kind in ("asha", "hyperband")
                                                   else "landscape")
    more = {"objectives": objectives} if objectives else {}
    _, reference = search(tmp_path, kind, name="reference", budget=budget, ask_batch=batch, objective=objective,
                          **more)
    records = (reference / rundir.JOURNAL).read_text().splitlines(keepends=True)
    results = [i for i, line in enumerate(records) if '"type": "result"' in line or '"type":"result"' in line]
    assert len(results) >= budget
    # Results told inside a batch (the 2nd, 3rd and 4th result of a batch), and a kill between two batches
    # (10: every result of the 2nd batch told, no ask of the 3rd yet).
    for cut in (7, 10, 13, 19):
        out = tmp_path / f"cut-{cut}"
        shutil.copytree(reference, out)
        (out / rundir.JOURNAL).write_text("".join(records[:results[cut - 1] + 1]))
        config = load_search_config(write_config(tmp_path, kind, budget=budget, ask_batch=batch,
                                                 objective=objective, **more))
        run_search(config, out, resume=True)
        assert rows(out) == rows(reference), f"cut after result {cut}"
