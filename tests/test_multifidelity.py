"""Multi-fidelity search: rungs of epochs, promotions, a budget in epochs, the table read at epoch r of
its schedule, training stopped after r epochs of the full schedule; ASHA, Hyperband and the
evolution-proposing variant pass the conformance checks (budget, reproducibility, SIGKILL + resume)."""
import collections
import json
import shutil
import signal

import numpy as np
import pytest
import yaml
from conftest import CONFIGS
from searchkit import era, rows, start_era, summary, wait_for_results, write_config
from test_bench import build_config
from test_report import read_csv
from test_report_bench import assert_rank_sum_row_is_scipys, evaluations

from era_deap.bench.build import run_build
from era_deap.bench.build_config import load_build_config
from era_deap.bench.table import Table
from era_deap.errors import ConfigError
from era_deap.search.asha import rungs
from era_deap.search.run import run_search
from era_deap.settings import DatasetConfig, TrainingConfig, load_search_config
from era_deap.training.data import load_dataset
from era_deap.training.train import train

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


# --- the report at equal training epochs ------------------------------------------------------------

MIXED_SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def mixed(table, tmp_path_factory):
    """ASHA (150 epochs) and random search (12 full trainings: 144 epochs), 3 seeds each, and their report."""
    from era_deap.cli import main
    root = tmp_path_factory.mktemp("mixed")
    for seed in MIXED_SEEDS:
        asha = mf_config(table, "asha", "asha", seed=seed)
        single = write_config(table, "random_search", budget=12, seed=seed, space=table / "space.yaml",
                              objective="table", evaluator={"table": str(table / "build")})
        run_search(load_search_config(asha), root / "runs" / "asha" / f"seed-{seed}")
        run_search(load_search_config(single), root / "runs" / "random_search" / f"seed-{seed}")
    assert main(["report", str(root / "runs"), "--out", str(root / "report")]) == 0
    return root, Table.load(str(table / "build"))


def epochs_regret(evaluations, full, epochs, means, optimum):
    """The regret of the full training observed best among the evaluations within `epochs` training epochs
    (a rung costs its epochs, a full training `full`, a cache hit nothing); None without a full training."""
    spent, best = 0, None
    for row in evaluations:
        spent += 0 if row["cached"] == "1" else int(row["epochs"] or full)
        if spent > epochs:
            break
        full_training = row["status"] == "ok" and row["cached"] == "0" and not row["epochs"]
        if full_training and (best is None or float(row["error"]) < float(best["error"])):
            best = row
    return None if best is None else means[best["key"]] - optimum


def test_the_report_compares_every_search_at_equal_training_epochs_as_scipy_does(mixed):
    root, table = mixed
    means, full = table.mean_errors(), int(table.data["epochs"])
    optimum = min(means.values())
    runs = {name: [evaluations(root / "runs" / name / f"seed-{seed}") for seed in MIXED_SEEDS]
            for name in ("random_search", "asha")}
    total = min(sum(0 if r["cached"] == "1" else int(r["epochs"] or full) for r in rows)
                for seeds in runs.values() for rows in seeds)
    regrets = {name: [epochs_regret(rows, full, total, means, optimum) for rows in seeds]
               for name, seeds in runs.items()}
    report = root / "report"
    # evaluation counts: single-fidelity searches only, with a note naming ASHA
    assert {r["name"] for r in read_csv(report / "benchmark.csv")} == {"random_search"}
    assert not (report / "regret_rank_sum.csv").exists()   # one single-fidelity search: nothing to compare
    page = (report / "report.md").read_text()
    assert "Multi-fidelity searches left out: ASHA." in page
    # nor do the best-error tests between searches compare ASHA at evaluation counts
    assert not (report / "rank_sum.csv").exists()
    section = page[page.index("## Rank-sum tests between searches"):]
    assert "Multi-fidelity searches left out: ASHA." in section
    # the epochs table: every search at E/4, E/2, E
    rows = read_csv(report / "benchmark_epochs.csv")
    assert {(r["name"], int(r["epochs"])) for r in rows} == {(name, e) for name in runs
                                                            for e in (total // 4, total // 2, total)}
    for row in (r for r in rows if int(r["epochs"]) == total):
        assert float(row["regret_mean"]) == pytest.approx(np.mean(regrets[row["name"]]))
    # the tests at E epochs
    (row,) = read_csv(report / "regret_rank_sum_epochs.csv")
    assert (row["search_a"], row["search_b"]) == ("Random Search", "ASHA")
    assert row["epochs"] == str(total) and row["n_a"] == row["n_b"] == str(len(MIXED_SEEDS))
    assert_rank_sum_row_is_scipys(row, regrets["random_search"], regrets["asha"])
    assert page.index("![Regret against training epochs") < page.index("at equal training epochs (per seed at")


def test_the_epochs_files_are_reproducible_and_removed_when_no_search_is_multifidelity(mixed, tmp_path):
    from era_deap.cli import main
    root, _ = mixed
    before = {p.name: p.read_bytes() for p in (root / "report").iterdir()}
    assert main(["report", str(root / "runs"), "--out", str(root / "report")]) == 0
    assert {p.name: p.read_bytes() for p in (root / "report").iterdir()} == before
    out = tmp_path / "report"
    shutil.copytree(root / "report", out)   # a previous report with the epochs files in it
    assert main(["report", str(root / "runs" / "random_search"), "--out", str(out)]) == 0
    names = {p.name for p in out.iterdir()}
    assert not names & {"benchmark_epochs.csv", "regret_rank_sum_epochs.csv", "regret-epochs.png"}
    assert "equal training epochs" not in (out / "report.md").read_text()


def test_seeds_of_an_epoch_budget_reaching_different_counts_is_one_note_not_a_warning(mixed):
    root, _ = mixed
    counts = {len(evaluations(root / "runs" / "asha" / f"seed-{seed}")) for seed in MIXED_SEEDS}
    assert len(counts) > 1      # the same epochs spent on different numbers of networks
    page = (root / "report" / "report.md").read_text()
    assert "**Warning.** The seeds of ASHA reached different evaluation counts" not in page
    assert page.count("reached different evaluation counts, as expected") == 1
    assert f"ASHA {min(counts)}–{max(counts)} evaluations" in page


def test_rank_sum_tests_between_multifidelity_searches_only_do_not_ask_for_more_seeds(mixed, tmp_path):
    # bench_mf's own report: 20 seeds of each search, all multi-fidelity (#25.5 said "found 0. Run a search
    # with several seeds").
    from era_deap.cli import main
    root, _ = mixed
    assert main(["report", str(root / "runs" / "asha"), "--out", str(tmp_path / "report")]) == 0
    section = (tmp_path / "report" / "report.md").read_text().split("## Rank-sum tests between searches")[1]
    assert "single-fidelity searches with two or more seeds each, and this report has 0" in section
    assert "several seeds" not in section and "Multi-fidelity searches left out: ASHA" in section


def test_a_report_of_multifidelity_searches_only_has_no_empty_table_and_names_them_in_table_11(mixed, tmp_path):
    from era_deap.cli import main
    root, _ = mixed
    assert main(["report", str(root / "runs" / "asha"), "--out", str(tmp_path / "report")]) == 0
    page = (tmp_path / "report" / "report.md").read_text()
    assert "best error and regret at a number of evaluations" not in page      # was a header over no rows
    assert not (tmp_path / "report" / "benchmark.csv").exists()
    assert "No single-fidelity search on this table" in page
    assert "### Table 11: the best architecture found by each non-evolutionary search (ASHA)" in page
