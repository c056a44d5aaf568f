"""The driver: run directory, cache, journal replay and repair, resume rules, lock, outputs, CLI."""
import json
import pickle
import signal
import time

import pytest
import yaml
from deap import tools
from searchkit import era, rows, start_era, summary, wait_for_results, write_config

from era_deap.errors import JournalError, ReplayMismatch, RunDirError
from era_deap.search import rundir
from era_deap.search.run import SearchAborted, run_search
from era_deap.search.runlock import RunLock
from era_deap.settings import load_search_config
from era_deap.space.space import DEFAULT_GENES, SearchSpace


def config_for(tmp_path, kind="regularized_evolution", **kwargs):
    return load_search_config(write_config(tmp_path, kind, **kwargs))


def test_outputs_of_a_run(tmp_path):
    out = tmp_path / "run"
    result = run_search(config_for(tmp_path, budget=20), out)
    with open(out / rundir.EVALUATIONS) as f:
        assert f.readline().strip().split(",") == list(rundir.EVALUATION_COLUMNS)
    logbook = pickle.loads((out / rundir.LOGBOOK_PICKLE).read_bytes())
    assert isinstance(logbook, tools.Logbook) and len(logbook) == 20
    best = logbook.select("best")
    assert all(b2 <= b1 for b1, b2 in zip(best, best[1:]))
    assert best[-1] == result["best"]["error"] == min(float(r["error"]) for r in rows(out))
    mean_all = logbook.select("mean_all")
    assert mean_all[-1] == pytest.approx(sum(float(r["error"]) for r in rows(out)) / 20)
    assert json.loads((out / rundir.LOGBOOK_JSON).read_text())[-1]["best"] == best[-1]
    hof = pickle.loads((out / rundir.HALL_OF_FAME_PICKLE).read_bytes())
    assert hof[0].fitness.values[0] == result["best"]["error"]
    saved = yaml.safe_load((out / rundir.CONFIG).read_text())
    assert saved["strategy"]["kind"] == "regularized_evolution" and saved["budget"] == 20
    s = summary(out)
    assert s["finished"] and s["trained"] == 20 and s["config_hash"] and s["versions"]["deap"]
    assert s["best"]["params"] > 0 and s["best"]["depth"] > 0


def test_existing_run_dir_needs_resume_and_a_finished_run_trains_nothing(tmp_path):
    config = config_for(tmp_path, budget=10)
    out = tmp_path / "run"
    run_search(config, out)
    with pytest.raises(RunDirError, match="already holds a run; pass --resume"):
        run_search(config, out)
    before = (out / rundir.JOURNAL).read_bytes()
    again = run_search(config, out, resume=True)
    assert (out / rundir.JOURNAL).read_bytes() == before  # not even a session record
    assert again["trained"] == 10 and again["finished"]


def test_a_run_dir_whose_journal_is_gone_is_never_written_over_without_fresh(tmp_path):
    """Results without a journal cannot be resumed (resuming rebuilds from the journal): refused with
    --resume and without it, and nothing there changes; --fresh moves them aside."""
    out = tmp_path / "run"
    run_search(config_for(tmp_path, budget=20), out)
    (out / rundir.JOURNAL).unlink()
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    with pytest.raises(RunDirError, match="already holds a run; pass --resume"):
        run_search(config_for(tmp_path, budget=5), out)
    with pytest.raises(RunDirError, match=r"holds results \(evaluations.csv, summary.json.*\) but no journal.jsonl, "
                                          r"so it cannot be resumed; --fresh moves it aside"):
        run_search(config_for(tmp_path, budget=5), out, resume=True)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    result = run_search(config_for(tmp_path, budget=5), out, fresh=True)
    assert result["trained"] == 5 and len(rows(out)) == 5
    assert len(rows(tmp_path / "run.old-1")) == 20


def test_resume_refuses_a_changed_config_but_lets_the_budget_grow(tmp_path):
    out = tmp_path / "run"
    run_search(config_for(tmp_path, budget=10), out)
    with pytest.raises(RunDirError, match=r"changed config \(strategy.population_size: 8 -> 9\)"):
        run_search(config_for(tmp_path, budget=10, strategy={"population_size": 9}), out, resume=True)
    with pytest.raises(RunDirError, match=r"budget: expected at least the run's budget 10"):
        run_search(config_for(tmp_path, budget=5), out, resume=True)
    grown = run_search(config_for(tmp_path, budget=15, workers=1), out, resume=True)
    assert grown["trained"] == 15
    reference = tmp_path / "reference"
    run_search(config_for(tmp_path, budget=15), reference)
    assert rows(out) == rows(reference)


def test_resume_accepts_a_run_saved_before_a_key_existed_while_the_key_keeps_its_default(tmp_path):
    out = tmp_path / "run"
    run_search(config_for(tmp_path, budget=6), out)
    saved = yaml.safe_load((out / rundir.CONFIG).read_text())
    del saved["evaluator"]["training"]["lr_gamma"]          # as an older version would have written it
    del saved["evaluator"]["final"]["use_validation_data"]  # its default there is the full schedule's: true
    (out / rundir.CONFIG).write_text(yaml.safe_dump(saved, sort_keys=False))
    with pytest.raises(RunDirError, match=r"evaluator.training.lr_gamma: \(absent\) -> 0.5"):
        run_search(config_for(tmp_path, budget=8, evaluator={"training": {"lr_gamma": 0.5}}), out, resume=True)
    assert run_search(config_for(tmp_path, budget=8), out, resume=True)["trained"] == 8


def test_speed_only_settings_may_change_on_resume(tmp_path):
    out = tmp_path / "run"
    run_search(config_for(tmp_path, budget=6), out)
    faster = {"training": {"eval_batch_size": 64, "cuda_graph": False}, "final": {"eval_batch_size": 64}}
    assert run_search(config_for(tmp_path, budget=8, evaluator=faster), out, resume=True)["trained"] == 8


def test_cache_hits_cost_no_budget(tmp_path):
    # A tiny space and no re-mutation: evolution soon proposes networks it has seen.
    genes = dict(DEFAULT_GENES, block=["basic"], s1=[0, 1], s2=[1, 2], s3=[1], s4=[1], filters=[8, 16],
                 filter_update=[2], group_size=[8])
    space = tmp_path / "tiny.yaml"
    space.write_text(yaml.safe_dump({"genes": genes}))
    assert SearchSpace(genes).n_unique == 8
    result = run_search(config_for(tmp_path, "evolution", budget=8, space=space,
                                   strategy={"population_size": 4, "max_mutation_retries": 0}), tmp_path / "run")
    table = rows(tmp_path / "run")
    cached = [r for r in table if r["cached"] == "1"]
    trained = [r for r in table if r["cached"] == "0"]
    assert cached and len(trained) == result["trained"] <= 8 and result["cached"] == len(cached)
    first_error = {r["key"]: r["error"] for r in trained}
    assert all(r["error"] == first_error[r["key"]] for r in cached)
    assert len({r["key"] for r in trained}) == len(trained)


def test_a_small_space_is_exhausted_not_looped_forever(tmp_path):
    genes = dict(DEFAULT_GENES, block=["basic"], s1=[0], s2=[1], s3=[1], s4=[1, 2], filters=[8],
                 filter_update=[2], group_size=[8])
    space = tmp_path / "two.yaml"
    space.write_text(yaml.safe_dump({"genes": genes}))
    result = run_search(config_for(tmp_path, "regularized_evolution", budget=10, space=space,
                                   strategy={"population_size": 2}), tmp_path / "run")
    assert result["trained"] == 2 and result["finished"] and result["stop_reason"] == "exhausted"


def test_most_evaluations_failing_stops_the_search_with_the_run_dir_named(tmp_path):
    out = tmp_path / "run"
    with pytest.raises(SearchAborted, match=r"5 of 5 evaluations failed \(error 5\); stopping. See .*run"):
        run_search(config_for(tmp_path, budget=50, objective="era_deap.training.objectives:failing"), out)
    assert summary(out)["stop_reason"] == "failures" and not summary(out)["finished"]
    assert len(rows(out)) == 5
    cli = era("search", write_config(tmp_path, "random_search", objective="era_deap.training.objectives:failing"),
              "--out", tmp_path / "cli", "--no-progress", check=False)
    assert cli.returncode == 1 and "evaluations failed" in cli.stderr


def test_a_user_operator_producing_invalid_genomes_gives_invalid_results(tmp_path):
    # An operator that leaves the space only after a while passes the check before the search (an
    # operator that always does is refused there, tests/test_operators.py): its children are `invalid`.
    break_filters_later.calls = 0
    config = config_for(tmp_path, "evolution", budget=16,
                        strategy={"mutate": {"function": "test_search:break_filters_later", "kwargs": {"value": 3}}})
    result = run_search(config, tmp_path / "run")
    table = rows(tmp_path / "run")
    invalid = [r for r in table if r["status"] == "invalid"]
    assert invalid and all("filters" in r["message"] and r["filters"] == "3" for r in invalid)
    assert result["budget_used"] == 16 and result["invalid"] == len(invalid)
    assert result["operators"]["invalid"] == len(invalid)


def break_filters_later(individual, value, after=12):
    """A mutation that sets an impossible filter count from its `after`-th call on."""
    break_filters_later.calls = getattr(break_filters_later, "calls", 0) + 1
    if break_filters_later.calls >= after:
        individual[5] = value
    return (individual,)


def test_journal_torn_last_record_is_repaired_and_redone(tmp_path):
    config = config_for(tmp_path, budget=12)
    out = tmp_path / "run"
    run_search(config, tmp_path / "reference")
    run_search(config_for(tmp_path, budget=6), out)
    journal = out / rundir.JOURNAL
    body = journal.read_bytes().rstrip(b"\n")
    last = body.rfind(b"\n") + 1
    journal.write_bytes(body[:last] + body[last:last + 25])  # the last record, half written
    with pytest.warns(UserWarning, match=r"journal.jsonl: line \d+ was half written"):
        run_search(config, out, resume=True)
    assert rows(out) == rows(tmp_path / "reference")


def test_journal_damaged_in_the_middle_is_refused_naming_file_and_line(tmp_path):
    config = config_for(tmp_path, budget=6)
    out = tmp_path / "run"
    run_search(config, out)
    journal = out / rundir.JOURNAL
    lines = journal.read_text().splitlines(keepends=True)
    lines[3] = lines[3][:10] + "\n"
    journal.write_text("".join(lines))
    with pytest.raises(JournalError, match=r"journal.jsonl: line 4: damaged journal record"):
        run_search(config, out, resume=True)


@pytest.mark.parametrize("bad, why", [
    ({"type": "result", "n": 99999, "index": 1, "elapsed": 1.0, "key": "k", "seed": 1,
      "result": {"status": "ok", "error": 1.0}}, "a result for ask 99999, which is not an open ask"),
    ({"type": "ask", "n": 6}, r"ask record without a valid `genome` \(got None\)"),
    ({"type": "result", "n": 6, "elapsed": "soon", "result": {}},
     r"result record without a valid `elapsed` \(got 'soon'\)"),
    ({"type": "bogus"}, r"not a journal record \(type one of session, ask"),
    ({"type": "result", "n": 5, "elapsed": 1.0, "result": {"status": "ok", "colour": "red"}}, "its result: "),
])
def test_valid_json_that_is_no_valid_journal_record_is_one_clear_line_on_resume(tmp_path, bad, why):
    config = config_for(tmp_path, budget=6)
    out = tmp_path / "run"
    run_search(config, out)
    journal = out / rundir.JOURNAL
    lines = journal.read_text().splitlines(keepends=True)
    if bad.get("n") == 5:     # a result for an ask that is open: drop the real one, keep its ask
        lines = [line for line in lines if not ('"type":"result"' in line and '"n":5,' in line)]
    journal.write_text("".join(lines) + json.dumps(bad) + "\n")
    last = len(lines) + 1
    with pytest.raises(JournalError, match=rf"journal.jsonl: line {last}: damaged journal record \({why}"):
        run_search(config, out, resume=True)
    result = era("search", write_config(tmp_path, "regularized_evolution", budget=6), "--out", out, "--resume",
                 check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"line {last}: damaged journal record" in result.stderr
    assert "delete that last line" in result.stderr     # only the last line is bad: no need to move the run


def test_replay_that_asks_another_genome_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    run_search(config_for(tmp_path, budget=6, seed=1), out)
    journal = out / rundir.JOURNAL
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    ask = next(r for r in records if r["type"] == "ask")
    ask["genome"][1] = (ask["genome"][1] + 1) % 19
    journal.write_text("".join(json.dumps(r) + "\n" for r in records))
    with pytest.raises(ReplayMismatch, match=r"record 2: resuming asked .* but the journal holds"):
        run_search(config_for(tmp_path, budget=6, seed=1), out, resume=True)


def test_a_run_dir_in_use_is_refused_naming_the_process(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    import os
    with RunLock(out):
        with pytest.raises(RunDirError, match=rf"in use by process {os.getpid()}"):
            run_search(config_for(tmp_path, budget=4), out)


def test_sigterm_marks_in_flight_interrupted_and_resume_finishes_identically(tmp_path):
    budget = 12
    env = {"ERA_OBJECTIVE_SLEEP": "0.3"}
    config = write_config(tmp_path, "regularized_evolution", budget=budget, workers=1,
                          objective="era_deap.training.objectives:paced_landscape")
    out = tmp_path / "run"
    process = start_era("search", config, "--out", out, "--no-progress", env=env)
    wait_for_results(out, 3, process)
    time.sleep(0.1)  # inside the next 0.3 s evaluation: one is in flight
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 143, err
    assert "interrupted" in err and "--resume" in err
    journal = (out / rundir.JOURNAL).read_text()
    assert '"type":"interrupted"' in journal
    assert not summary(out)["finished"]
    era("search", config, "--out", out, "--resume", "--no-progress", env={"ERA_OBJECTIVE_SLEEP": "0"})
    reference = run_search(load_search_config(config), tmp_path / "reference")
    assert rows(out) == rows(tmp_path / "reference") and reference["trained"] == budget


def test_cli_overrides_and_default_run_dir(tmp_path, monkeypatch):
    config = write_config(tmp_path, "random_search", budget=30)
    monkeypatch.chdir(tmp_path)
    result = era("search", config, "--budget", "7", "--seed", "3", "--workers", "0", "--no-progress")
    assert "random_search: 7 trained" in result.stdout
    s = summary(tmp_path / "runs" / "random_search")
    assert s["budget"] == 7 and s["seed"] == 3
    bad = era("search", config, "--scheduler", "nowhere", check=False)
    assert bad.returncode == 2 and "--scheduler: expected 'local' or a Dask scheduler address" in bad.stderr


def test_a_random_search_saved_by_0_1_resumes_only_with_the_sampling_it_used(tmp_path):
    # era-deap 0.1 drew random search's networks uniformly over networks; `strategy.sampling` now
    # defaults to configurations for every strategy. Resuming such a run says which key to set.
    import shutil

    from conftest import CONFIGS, ROOT
    run = tmp_path / "random_search"
    shutil.copytree(ROOT / "tests" / "fixtures" / "runs_v0_1" / "random_search", run)
    space = str(CONFIGS / "quick" / "space.yaml")
    saved = yaml.safe_load((run / "config.yaml").read_text())
    saved["space"] = space   # the fixture was written in another checkout
    saved["evaluator"]["dataset"]["data_dir"] = str(tmp_path / "data")
    (run / "config.yaml").write_text(yaml.safe_dump(saved))
    config = {"name": "random_search", "space": space, "seed": 0, "budget": 14,
              "strategy": {"kind": "random_search"},
              "evaluator": {"objective": "era_deap.objectives:noisy_landscape", "workers": 0,
                            "dataset": {"data_dir": str(tmp_path / "data")}}}
    (tmp_path / "rs.yaml").write_text(yaml.safe_dump(config))
    with pytest.raises(RunDirError, match=r"strategy.sampling: \(absent\) -> 'configurations'"):
        run_search(load_search_config(tmp_path / "rs.yaml"), run, resume=True)
    config["strategy"]["sampling"] = "networks"
    (tmp_path / "rs.yaml").write_text(yaml.safe_dump(config))
    before = rows(run)
    result = run_search(load_search_config(tmp_path / "rs.yaml"), run, resume=True)
    after = [{k: v for k, v in r.items() if k != "epochs"} for r in rows(run)]   # a column 0.1 had not
    assert result["trained"] == 14 and after[:12] == before
