"""Multi-fidelity search: rungs of epochs, promotions, a budget in epochs, the table read at epoch r of
its schedule, training stopped after r epochs of the full schedule; ASHA, Hyperband and the
evolution-proposing variant pass the conformance checks (budget, reproducibility, SIGKILL + resume)."""
import collections
import json
import signal

import pytest
import yaml

from conftest import CONFIGS
from era_deap.bench.table import Table
from era_deap.errors import ConfigError
from era_deap.search.asha import rungs
from era_deap.search.run import run_search
from era_deap.settings import DatasetConfig, TrainingConfig, load_search_config
from era_deap.training.data import load_dataset
from era_deap.training.train import train
from searchkit import era, rows, start_era, summary, wait_for_results, write_config
from test_bench import build_config

from era_deap.bench.build import run_build
from era_deap.bench.build_config import load_build_config

VARIANTS = [("asha", {}), ("hyperband", {}), ("asha", {"propose": "evolution", "population_size": 6})]


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A small table whose networks have 12-epoch learning curves (the curved landscape)."""
    folder = tmp_path_factory.mktemp("curved")
    config = load_build_config(build_config(folder, objective="era_deap.training.objectives:curved_landscape"))
    run_build(config, folder / "build", log=lambda line: None)
    return folder


def mf_config(folder, kind, name, strategy=None, budget_epochs=150, **kwargs):
    return write_config(folder, kind, name=name, budget=500,
                        budget_epochs=budget_epochs, space=folder / "space.yaml", objective="table",
                        evaluator={"table": str(folder / "build")},
                        strategy={"kind": kind, "min_epochs": 1, "eta": 3, **(strategy or {})}, **kwargs)


def test_rungs():
    assert rungs(1, 12, 3) == [1, 3, 9, 12] and rungs(2, 20, 2) == [2, 4, 8, 16, 20] and rungs(5, 5, 3) == [5]


@pytest.mark.parametrize("kind, strategy", VARIANTS)
def test_budget_in_epochs_promotions_and_no_evaluation_twice(table, kind, strategy):
    name = f"{kind}-{len(strategy)}"
    result = run_search(load_search_config(mf_config(table, kind, name, strategy)), table / name)
    evaluations = rows(table / name)
    epochs = collections.Counter(r["epochs"] for r in evaluations)
    assert 150 <= result["epochs_used"] < 150 + 12           # stops once the epochs are spent
    assert sum(int(e or 12) * n for e, n in epochs.items()) == result["epochs_used"]
    assert set(epochs) <= {"1", "3", "9", ""} and epochs["1"] > epochs["3"] > 0
    pairs = [(r["key"], r["epochs"]) for r in evaluations if r["cached"] == "0"]
    assert len(set(pairs)) == len(pairs)                     # no network trained twice at one rung
    for key, rung in pairs:                                  # every promotion was trained a rung below
        if rung == "3":
            assert (key, "1") in pairs or kind == "hyperband"
    looked_up = Table.load(str(table / "build"))
    for r in evaluations:                                    # each error is the table's curve at its epoch
        row = looked_up.result(r["key"], int(r["seed"]))
        expected = row["val_error"][int(r["epochs"]) - 1] if r["epochs"] else row["error"]
        assert float(r["error"]) == pytest.approx(expected)
    best = result["best"]
    assert best is None or all(r["epochs"] == "" for r in evaluations if r["key"] == best["key"] and
                               float(r["error"]) == best["error"])   # the best is a full training


@pytest.mark.parametrize("kind, strategy", VARIANTS)
def test_reproducible_and_sigkill_resume_equals_uninterrupted(table, kind, strategy):
    tag = f"{kind}-{len(strategy)}"
    run_search(load_search_config(mf_config(table, kind, f"{tag}-a", strategy, seed=4)), table / f"{tag}-a")
    run_search(load_search_config(mf_config(table, kind, f"{tag}-b", strategy, seed=4)), table / f"{tag}-b")
    assert rows(table / f"{tag}-a") == rows(table / f"{tag}-b")
    config = mf_config(table, kind, f"{tag}-killed", strategy, seed=4, workers=1)
    out = table / f"{tag}-killed"
    for kill_after in (5, 30):
        process = start_era("search", config, "--out", out, "--resume", "--no-progress")
        wait_for_results(out, kill_after, process)
        process.send_signal(signal.SIGKILL)
        process.wait()
    era("search", config, "--out", out, "--resume", "--no-progress")
    assert rows(out) == rows(table / f"{tag}-a")
    assert summary(out)["epochs_used"] == summary(table / f"{tag}-a")["epochs_used"]


def test_the_top_rung_must_be_the_whole_schedule_and_the_objective_must_stop_early(table, tmp_path):
    bad = mf_config(table, "asha", "bad", {"max_epochs": 10})
    with pytest.raises(ConfigError, match=r"strategy.max_epochs: expected the search schedule's epochs \(12"):
        run_search(load_search_config(bad), tmp_path / "bad")
    landscape = write_config(tmp_path, "asha", name="flat", budget=10, space=table / "space.yaml",
                             strategy={"kind": "asha"})
    with pytest.raises(ConfigError, match="has no `epochs` parameter"):
        run_search(load_search_config(landscape), tmp_path / "flat")
    curved = write_config(tmp_path, "asha", name="curved", budget=30, space=table / "space.yaml",
                          objective="era_deap.training.objectives:curved_landscape",
                          strategy={"kind": "asha", "max_epochs": 12})
    assert run_search(load_search_config(curved), tmp_path / "curved")["finished"]
    saved = yaml.safe_load((table / "asha-0" / "config.yaml").read_text())
    assert saved["strategy"]["max_epochs"] == 12            # filled in from the table's schedule


def test_training_for_r_epochs_is_the_first_r_epochs_of_the_full_schedule(one_torch_thread):
    dataset = load_dataset(DatasetConfig(name="digits"), 0, "cpu")
    schedule = TrainingConfig(epochs=4, batch_size=64, lr=0.05, lr_milestones=[0.75])
    arch = {"block": "basic", "sections": [0, 1, 1, 1], "filters": 4, "filter_update": 2, "group_size": 1}
    full = train(arch, dataset, schedule, "cpu", seed=3)
    short = train(arch, dataset, schedule, "cpu", seed=3, stop_after=2)
    assert len(short.curve) == 2 and short.epochs == 2
    for a, b in zip(short.curve, full.curve):     # same lr, data and arithmetic: the same numbers
        assert a["train_loss"] == b["train_loss"] and a["val_error"] == b["val_error"] and a["lr"] == b["lr"]
    assert short.error == full.curve[1]["val_error"]


def test_the_live_quick_profile_has_an_asha_search():
    config = load_search_config(CONFIGS / "quick" / "asha.yaml")
    assert config.strategy.kind == "asha" and config.budget_epochs and config.evaluator.objective == "train"
    json.dumps(config.to_dict())


def test_the_report_draws_regret_against_training_epochs_for_multifidelity_runs(table, tmp_path):
    from era_deap.cli import main
    run_search(load_search_config(mf_config(table, "asha", "reported", budget_epochs=60)), tmp_path / "runs" / "asha")
    assert main(["report", str(tmp_path / "runs"), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert (tmp_path / "report" / "regret-epochs.png").stat().st_size > 1000
    assert "![Regret against training epochs" in page


def test_the_bench_mf_profile_spends_the_bench_profiles_training():
    bench = load_search_config(CONFIGS / "bench" / "evolution.yaml")
    for name in ("asha", "hyperband", "asha_evolution"):
        config = load_search_config(CONFIGS / "bench_mf" / f"{name}.yaml")
        assert config.name == name and config.evaluator.table == bench.evaluator.table == "digits-quick"
        assert config.budget_epochs == bench.budget * 12 and config.strategy.kind in ("asha", "hyperband")
