"""The public Python API (era_deap/__init__.py, era_deap/api/): a light import, configs with overrides
validated as YAML is, run_search as `era search`, runs read back as DEAP objects, tables, and the two
examples (examples/deap_mu_plus_lambda.py, examples/python_api.py), on the shipped table."""
import json
import subprocess
import sys

import pytest
import yaml
from conftest import ROOT
from deap import tools
from searchkit import era, rows

import era_deap
from era_deap.api.configs import EVALUATOR_KEYS
from era_deap.settings import EvaluatorConfig

BENCH = ROOT / "configs" / "bench"
EXAMPLES = ROOT / "examples"


def test_import_era_deap_imports_neither_torch_nor_matplotlib():
    code = ("import sys, era_deap; assert 'torch' not in sys.modules and 'matplotlib' not in sys.modules; "
            "era_deap.Problem, era_deap.load_config, era_deap.run_search, era_deap.compare, era_deap.load_table; "
            "assert 'torch' not in sys.modules, 'the API modules import torch'; print(sorted(era_deap.__all__))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    for name in ("Problem", "run_search", "load_run", "load_runs", "report", "compare", "load_table", "Verdict"):
        assert name in done.stdout


def test_every_public_name_resolves_and_the_evaluator_shortcuts_are_evaluator_keys():
    for name in era_deap.__all__:
        assert getattr(era_deap, name) is not None, name
    assert callable(era_deap.report)
    assert set(EVALUATOR_KEYS) <= {f.name for f in EvaluatorConfig.__dataclass_fields__.values()}
    with pytest.raises(AttributeError):
        era_deap.no_such_name


def test_load_config_overrides_are_validated_as_the_yaml_is():
    config = era_deap.load_config(BENCH / "regularized_evolution.yaml", seed=4, budget=30, workers=2,
                                  strategy={"population_size": 10})
    assert (config.seed, config.budget, config.evaluator.workers) == (4, 30, 2)
    assert config.strategy.population_size == 10 and config.strategy.tournament_size == 2
    assert era_deap.load_config(config, budget=31).budget == 31
    with pytest.raises(era_deap.ConfigError, match=r"regularized_evolution.yaml \(budget=0\): budget: expected a "
                                                   r"value >= 1, got 0"):
        era_deap.load_config(BENCH / "regularized_evolution.yaml", budget=0)
    with pytest.raises(era_deap.ConfigError, match=r"\(observe='median'\): evaluator.observe: expected 'seed' or"):
        era_deap.load_config(BENCH / "regularized_evolution.yaml", observe="median")
    with pytest.raises(era_deap.ConfigError, match=r"regularized_evolution.yaml: budgte=: unknown override"):
        era_deap.load_config(BENCH / "regularized_evolution.yaml", budgte=3)
    with pytest.raises(era_deap.ConfigError, match="missing key strategy"):
        era_deap.load_config(BENCH / "base.yaml")      # a Problem's config; a search needs a strategy


def test_era_search_and_run_search_write_the_same_evaluations(tmp_path):
    config = tmp_path / "re.yaml"
    config.write_text(yaml.safe_dump({"base": str(BENCH / "regularized_evolution.yaml"), "budget": 40}))
    era("search", config, "--out", tmp_path / "cli", "--no-progress")
    run = era_deap.run_search(config, tmp_path / "api")
    assert (tmp_path / "api" / "evaluations.csv").read_bytes() != b""
    assert rows(tmp_path / "api") == rows(tmp_path / "cli") and len(rows(tmp_path / "cli")) >= 40
    assert run.summary["trained"] == 40 and run.finished


def test_run_search_applies_the_resume_budget_rule_and_reads_back_as_deap_objects(tmp_path):
    config, out = era_deap.load_config(BENCH / "random_search.yaml", budget=10), tmp_path / "run"
    era_deap.run_search(config, out)
    assert era_deap.run_search(config, out, resume=True, budget=14).summary["budget"] == 14
    run = era_deap.run_search(config, out, resume=True)      # without a budget the run keeps its own
    assert run.summary["budget"] == 14 and run.summary["trained"] == 14
    with pytest.raises(era_deap.ConfigError, match=r"budget \(--budget\): expected at least the run's budget 14"):
        era_deap.run_search(config, out, resume=True, budget=12)
    with pytest.raises(era_deap.RunDirError, match="already holds a run"):
        era_deap.run_search(config, out)
    assert isinstance(run.logbook, tools.Logbook) and len(run.logbook) == len(run.evaluations) == 14
    assert isinstance(run.hall_of_fame, tools.HallOfFame)
    assert run.best.key == run.summary["best"]["key"] == run.hall_of_fame[0].key
    assert all(isinstance(e, era_deap.Evaluation) for e in run.evaluations)
    assert run.config.budget == 14 and [r.path for r in era_deap.load_runs(tmp_path)] == [out]
    with pytest.raises(era_deap.RunDirError, match="not a run directory"):
        era_deap.load_run(tmp_path)


def test_a_problem_config_cannot_run_as_a_search(tmp_path):
    problem = era_deap.Problem(BENCH / "base.yaml", out=tmp_path / "mine", budget=5)
    problem.close()
    with pytest.raises(era_deap.ConfigError, match="strategy.kind: deap is asked by a Python script"):
        era_deap.run_search(problem.config, tmp_path / "other")


def test_load_table_looks_networks_up_and_knows_its_optimum():
    table = era_deap.load_table("digits-quick")
    key, error = table.optimum()
    arch = table.networks[key]["arch"]
    assert table.lookup(arch)["error"] == pytest.approx(error)
    assert table.lookup(arch, seed=0) == table.networks[key]["results"][0]
    assert table.info()["best"] == {"key": key, "mean_error": error}


def test_the_deap_example_writes_a_run_that_the_report_reads(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "deap_mu_plus_lambda.py"), str(tmp_path / "run")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "budget of 200 trained networks used up" in done.stdout and "report:" in done.stdout
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["trained"] == 200 and summary["finished"] and summary["stop_reason"] == "budget"
    assert "| deap | 0 |" in (tmp_path / "run" / "report" / "report.md").read_text()
    user_lines = [line for line in (EXAMPLES / "deap_mu_plus_lambda.py").read_text().split('"""')[2].splitlines()
                  if line.strip()]
    assert len(user_lines) <= 25


def test_the_python_api_example_runs_plots_and_compares(tmp_path):
    done = subprocess.run([sys.executable, str(EXAMPLES / "python_api.py"), str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "logbook.png").stat().st_size > 1000
    assert "best: regularized_evolution" in done.stdout and "regret: regularized_evolution" in done.stdout
    compare_md = (tmp_path / "out" / "compare" / "compare.md").read_text()
    assert compare_md.startswith("# era compare: random_search vs regularized_evolution")
    assert len(list((tmp_path / "out" / "compare" / "regularized_evolution").glob("seed-*"))) == 4


def test_print_logbook_shows_the_strategys_own_statistics(tmp_path):
    # DEAP prints the header's columns only: the evolutions' population statistics were hidden (#25.5).
    run = era_deap.run_search(era_deap.load_config(BENCH / "regularized_evolution.yaml", budget=12,
                                                   strategy={"population_size": 5}), tmp_path / "re")
    for logbook in (run.logbook, _without_pickle(run)):
        first_line = str(logbook).splitlines()[0].split()
        assert first_line[:8] == ["index", "elapsed", "error", "status", "cached", "best", "mean_all", "mean_last50"]
        assert "population_best" in first_line and set(logbook[-1]) <= set(logbook.header)


def _without_pickle(run):
    (run.path / "logbook.pkl").unlink()
    return era_deap.load_run(run.path).logbook


def test_evaluations_get_the_same_torch_threads_from_the_python_api_as_from_era_search(tmp_path):
    # #25.6: both run through the same executors, which split the cores between worker processes
    # (search/devices.py threads_per_worker); workers: 0 evaluates in the calling process as it is.
    from era_deap.search.devices import threads_per_worker
    for workers in (2, 0):
        config = tmp_path / f"threads-{workers}.yaml"
        config.write_text(yaml.safe_dump({"name": "threads", "seed": 0, "budget": 3,
                                          "strategy": {"kind": "random_search"},
                                          "evaluator": {"objective": "era_deap.training.objectives:torch_threads",
                                                        "workers": workers}}))
        era("search", config, "--out", tmp_path / f"cli-{workers}", "--no-progress")
        code = f"import era_deap; era_deap.run_search({str(config)!r}, out={str(tmp_path / f'api-{workers}')!r})"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        cli = [float(r["error"]) for r in rows(tmp_path / f"cli-{workers}")]
        api = [float(r["error"]) for r in rows(tmp_path / f"api-{workers}")]
        assert cli == api
        if workers:
            assert set(cli) == {float(threads_per_worker(workers))}
