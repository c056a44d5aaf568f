"""The run-directory contract (era_deap/search/rundir.py): the Evaluation record is what evaluations.csv
holds, row for row; `RunDirectory` answers what the report, `era train --from`, `era compare` and
run_all.sh (`era rundir`) ask of a run; summary.json carries a format marker, and runs written before
it existed (tests/fixtures/runs_v0_1) still read."""
import io
import json

import pytest
from conftest import CONFIGS, ROOT
from searchkit import write_config

from era_deap.cli import main
from era_deap.errors import RunDirError
from era_deap.search import rundir
from era_deap.search.run import run_search
from era_deap.search.rundir import Evaluation, RunDirectory
from era_deap.settings import load_search_config, replace

OLD_RUNS = ROOT / "tests" / "fixtures" / "runs_v0_1"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished run of a cheap objective, failures included (flaky_landscape), and its config."""
    tmp = tmp_path_factory.mktemp("rundir")
    config = load_search_config(write_config(tmp, "regularized_evolution", budget=16,
                                             space=CONFIGS / "quick" / "space.yaml",
                                             objective="era_deap.training.objectives:flaky_landscape",
                                             evaluator={"max_failure_fraction": 1.0}))
    run_search(config, tmp / "run")
    return config, tmp / "run"


def test_evaluations_written_and_read_back_give_the_same_csv_bytes(finished_run):
    _, path = finished_run
    evaluations = RunDirectory(path).evaluations()
    assert [e.index for e in evaluations] == list(range(1, len(evaluations) + 1))
    assert any(not e.ok for e in evaluations) and any(e.ok for e in evaluations)
    again = io.StringIO(newline="")
    rundir.write_header(again)
    for e in evaluations:
        rundir.write_row(again, e)
    assert again.getvalue().encode() == (path / rundir.EVALUATIONS).read_bytes()


def test_a_run_is_finished_only_for_its_own_config_and_budget(finished_run):
    config, path = finished_run
    run = RunDirectory(path)
    assert run.summary()["format"] == rundir.FORMAT
    assert run.is_finished(config)
    assert not run.is_finished(replace(config, seed=1))          # another search
    assert not run.is_finished(replace(config, budget=17))       # more to do
    assert run.is_finished(replace(config, budget=10))           # already past it
    assert not RunDirectory(path.parent / "nowhere").is_finished(config)


def test_ranked_networks_start_with_the_summarys_best_and_name_each_network_once(finished_run):
    _, path = finished_run
    run = RunDirectory(path)
    ranked = run.ranked_networks()
    best = run.summary()["best"]
    assert (ranked[0].key, ranked[0].error, ranked[0].index) == (best["key"], best["error"], best["index"])
    assert [e.error for e in ranked] == sorted(e.error for e in ranked)
    assert len({e.key for e in ranked}) == len(ranked) and all(e.ok and not e.cached for e in ranked)
    arch = best["arch"]
    assert run.best_train_flags() == [
        "--block", arch["block"], "--sections", ",".join(map(str, arch["sections"])), "--filters",
        str(arch["filters"]), "--filter-update", str(arch["filter_update"]), "--group-size",
        str(arch["group_size"]), "--space", str(CONFIGS / "quick" / "space.yaml")]


def test_era_rundir_answers_run_all_sh(finished_run, capsys):
    config, path = finished_run
    source = config.source
    assert main(["rundir", "state", source, str(path)]) == 0
    assert main(["rundir", "state", source, str(path), "--seed", "3"]) == 0
    assert main(["rundir", "state", str(path / "missing.yaml"), str(path)]) == 0   # unreadable: not finished
    assert capsys.readouterr().out.split() == ["finished", "partial", "partial"]
    assert main(["rundir", "train-flags", str(path)]) == 0
    assert capsys.readouterr().out.splitlines() == RunDirectory(path).best_train_flags()


def test_runs_written_before_the_format_marker_still_read():
    # era-deap 0.1: no summary.json `format`, no `epochs` column.
    for name in ("random_search", "regularized_evolution"):
        run = RunDirectory(OLD_RUNS / name)
        assert "format" not in run.summary() and run.summary()["finished"]
        evaluations, notes = run.read_evaluations()
        assert len(evaluations) == 12 and not notes and all(e.epochs is None for e in evaluations)
        assert run.ranked_networks()[0].key == run.summary()["best"]["key"]
        assert run.best_train_flags()[:2] == ["--block", run.summary()["best"]["arch"]["block"]]


def test_a_run_of_another_format_is_refused_by_name(tmp_path):
    (tmp_path / rundir.SUMMARY).write_text(json.dumps({"format": "era-deap-run/2", "finished": True}))
    with pytest.raises(RunDirError, match=r"summary.json: format 'era-deap-run/2': written by another"):
        RunDirectory(tmp_path).summary()


def test_a_row_reads_into_typed_fields_and_malformed_cells_name_their_column():
    row = {"index": "3", "key": "basic-0.1.1.1-f8-u2-g8", "block": "basic", "s1": "0", "s2": "1",
           "s3": "1", "s4": "1", "filters": "8", "filter_update": "2", "group_size": "8", "error": "12.5",
           "status": "ok", "cached": "0", "params": "", "depth": "8", "seconds": "1.5", "elapsed": "9.25",
           "worker": "cpu:0", "seed": "7", "message": ""}   # no epochs: a run written before the column
    e = Evaluation.from_row(row)
    assert (e.genes, e.error, e.params, e.depth, e.epochs, e.cached) == (("basic", 0, 1, 1, 1, 8, 2, 8), 12.5,
                                                                        None, 8, None, False)
    assert {column: str(cell) for column, cell in e.to_row().items()} == {**row, "epochs": ""}
    with pytest.raises(ValueError, match="column depth: expected a number"):
        Evaluation.from_row({**row, "depth": "deep"})
    with pytest.raises(ValueError, match="status ok needs a finite error"):
        Evaluation.from_row({**row, "error": ""})
