"""`era compare`: paired seeds of two variants on a table, finished runs reused, and a verdict whose
numbers are the runs' own (recomputed here with scipy)."""
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest
import yaml
from scipy import stats
from searchkit import rows, running
from test_bench import built

from era_deap.cli import main
from era_deap.errors import ConfigError
from era_deap.report.compare import ComparisonTest, _disagreements, measure, parse_seeds
from era_deap.report.compare import tests as comparison_tests

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def variant(tmp_path, name, strategy, table):
    data = {"name": name, "space": str(tmp_path / "space.yaml"), "budget": 30,
            "strategy": {"kind": "regularized_evolution", "population_size": 8, **strategy},
            "evaluator": {"objective": "table", "table": str(table), "workers": 0}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_compare_runs_paired_seeds_and_reports_the_paired_test(tmp_path, capsys):
    table = built(tmp_path)
    stock = variant(tmp_path, "stock", {}, table)
    random_parents = variant(tmp_path, "random_init", {"population_size": 30}, table)
    out = tmp_path / "cmp"
    assert main(["compare", str(stock), str(random_parents), "--seeds", "0-5", "--out", str(out)]) == 0
    said = capsys.readouterr().err.splitlines()     # a count, not twelve run paths before the verdict (#25.5)
    assert not any("seed-" in line for line in said) and len(said) <= 1 + 10
    assert f"era compare: 12 of 12 runs done (in {out})" in said
    page = (out / "compare.md").read_text()
    assert "Compared at N = 30 evaluations" in page and "6 paired seeds; baseline: stock" in page
    best = {}
    for name in ("stock", "random_init"):
        best[name] = []
        for seed in range(6):
            run = out / name / f"seed-{seed}"
            assert json.loads((run / "summary.json").read_text())["seed"] == seed
            best[name].append(min(float(r["error"]) for r in rows(run) if r["status"] == "ok"))
    p = stats.wilcoxon(best["stock"], best["random_init"]).pvalue
    line = next(line for line in page.splitlines() if line.startswith("| Best error (%) | random_init vs stock"))
    assert f"| {p:.3g} |" in line
    # the resolution: the smallest difference the paired test detects with 80% power, from the differences' sd
    differences = np.array(best["random_init"]) - np.array(best["stock"])
    detectable = ((stats.norm.ppf(0.975) + stats.norm.ppf(0.8)) * differences.std(ddof=1) / np.sqrt(6)
                  / np.sqrt(3 / np.pi))
    assert f"| {detectable:.3g} |" in line
    assert "p (Holm over 1 variant)" in page and "(with one variant it equals p)" in page
    if p >= 0.05:
        assert f"no difference detected; this comparison could detect ≥ {detectable:.3g} points" in line
    records = {(t.metric, t.variant): t for t in comparison_tests(measure({n: [out / n / f"seed-{k}" for k in range(6)]
                                                                for n in ("stock", "random_init")})[0])}
    record = records[("best", "random_init")]
    assert record.detectable == pytest.approx(detectable) and record.p_value == pytest.approx(p)
    assert record.holm_over == 1 and record.p_holm == record.p_value and record.seeds == 6
    assert record.mean_difference == pytest.approx(differences.mean())
    first = (out / "stock" / "seed-0" / "journal.jsonl").read_bytes()
    capsys.readouterr()
    assert main(["compare", str(stock), str(random_parents), "--seeds", "0-5", "--out", str(out)]) == 0
    assert "12 runs finished before, 0 to run" in capsys.readouterr().err
    assert (out / "stock" / "seed-0" / "journal.jsonl").read_bytes() == first


def test_seeds_and_variant_names_are_checked():
    assert parse_seeds("0-3") == [0, 1, 2, 3] and parse_seeds("1,5,7") == [1, 5, 7]
    for bad in ("4", "a-b", "1,1"):
        with pytest.raises(ConfigError, match="--seeds"):
            parse_seeds(bad)


def test_compare_at_equal_training_epochs_counts_a_rung_by_its_epochs(tmp_path):
    from test_bench import build_config

    from era_deap.bench.build import run_build
    from era_deap.bench.build_config import load_build_config
    run_build(load_build_config(build_config(tmp_path, objective="era_deap.training.objectives:curved_landscape")),
              tmp_path / "build", log=lambda line: None)
    single = variant(tmp_path, "single", {}, tmp_path / "build")
    data = yaml.safe_load(single.read_text())
    data.update(name="asha", budget=500, budget_epochs=300, strategy={"kind": "asha", "min_epochs": 1, "eta": 3})
    (tmp_path / "asha.yaml").write_text(yaml.safe_dump(data))
    out = tmp_path / "cmp"
    assert main(["compare", str(single), str(tmp_path / "asha.yaml"), "--seeds", "0-2", "--epochs",
                 "--out", str(out)]) == 0
    page = (out / "compare.md").read_text()
    # The single-fidelity runs: 30 networks x 12 epochs = 360; ASHA stops once it spent 300 (+ one rung).
    spent = [sum(int(r["epochs"] or 12) for r in rows(out / "asha" / f"seed-{s}")) for s in range(3)]
    assert f"Compared at N = {min(spent + [360])} epochs" in page and all(300 <= e < 312 for e in spent)


def test_a_run_whose_user_operator_changed_is_stale_refused_then_rerun_with_fresh(tmp_path, capsys, monkeypatch):
    # The operator's module sits next to the configs, as a user's does (add_import_paths finds it).
    table = built(tmp_path)
    module = tmp_path / "stale_ops.py"
    module.write_text((EXAMPLES / "my_operators.py").read_text())
    monkeypatch.syspath_prepend(str(tmp_path))
    stock = variant(tmp_path, "stock", {}, table)
    mine = variant(tmp_path, "mine", {"mutate": {"function": "stale_ops:mut_step", "kwargs": {"steps": 1}}}, table)
    out = tmp_path / "cmp"
    args = ["compare", str(stock), str(mine), "--seeds", "0-1", "--out", str(out)]
    assert main(args) == 0
    assert json.loads((out / "mine" / "seed-0" / "summary.json").read_text())["code"].keys() == {"stale_ops"}
    assert "code" not in json.loads((out / "stock" / "seed-0" / "summary.json").read_text())
    module.write_text(module.read_text().replace("steps=1", "steps=2"))      # the user edits the operator
    capsys.readouterr()
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "mine/seed-0: ran other code than asked now: stale_ops (edited since) (and 1 more runs)" in err
    assert "--fresh" in err
    assert main(args + ["--fresh"]) == 0
    assert "2 runs finished before, 2 to run" in capsys.readouterr().err
    assert main(args) == 0
    assert "4 runs finished before, 0 to run" in capsys.readouterr().err


def test_compare_refuses_one_config_and_a_seed_range_of_millions(tmp_path, capsys):
    table = built(tmp_path)
    stock = variant(tmp_path, "stock", {}, table)
    with pytest.raises(SystemExit) as exit:
        main(["compare", str(stock), "--seeds", "0-3", "--out", str(tmp_path / "cmp")])
    assert exit.value.code == 2 and "expected two or more" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="at most 1000 seeds"):
        parse_seeds("0-999999")
    assert not (tmp_path / "cmp").exists()


def test_a_verdict_whose_metrics_disagree_says_which_question_each_answers():
    def record(metric, p):
        return ComparisonTest(metric, "variant", "base", 20, 1.0, 1.2, -0.2, p, p, 1, 0.7, 0.3)
    lines = _disagreements([record("best", 0.007), record("regret", 0.4)])
    assert len(lines) == 1 and "metrics disagree for variant" in lines[0]
    assert "Best error (%): variant better" in lines[0]
    assert "Regret (points): no difference detected; this comparison could detect ≥ 0.3 points" in lines[0]
    assert "which search returns the better network" in lines[0]
    assert _disagreements([record("best", 0.4), record("regret", 0.4)]) == []


def test_sigterm_to_compare_with_jobs_ends_every_process_it_started(tmp_path):
    table = built(tmp_path)
    slow = {"objective": "era_deap.training.objectives:sleepy_landscape", "table": None}
    a, b = (variant(tmp_path, name, {}, table) for name in ("a", "b"))
    for path in (a, b):
        data = yaml.safe_load(path.read_text())
        data["evaluator"].update(slow)
        path.write_text(yaml.safe_dump(data))
    log = tmp_path / "compare.log"
    # stderr to a file: a pipe would block the test while orphaned workers hold it open.
    with open(log, "w") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "era_deap.cli", "compare", str(a), str(b), "--seeds", "0-3",
                                    "--jobs", "2", "--out", str(tmp_path / "cmp")],
                                   stdout=subprocess.DEVNULL, stderr=stderr)
    children: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while not list((tmp_path / "cmp").glob("*/seed-*/journal.jsonl")) and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.2)
        time.sleep(1.0)
        children = psutil.Process(process.pid).children(recursive=True)
        assert len(children) >= 2, "the pool's workers should be running"
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        deadline = time.monotonic() + 30
        while any(running(child.pid) for child in children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [child.pid for child in children if running(child.pid)], log.read_text()
        assert process.returncode != 0
    finally:
        for leftover in [process, *children]:
            try:
                leftover.kill()
            except (OSError, psutil.NoSuchProcess):
                pass
