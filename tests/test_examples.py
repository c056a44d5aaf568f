"""The README's worked examples: a user's own operator plus a DEAP built-in, and plotting a logbook."""
import subprocess
import sys

from conftest import ROOT
from era_deap.search.run import run_search
from era_deap.settings import load_search_config
from searchkit import rows

EXAMPLES = ROOT / "examples"


def test_custom_operator_example_runs_and_uses_its_operators(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # `era search` puts the config's folder on the path
    config = load_search_config(EXAMPLES / "custom_operator.yaml")
    assert config.strategy.mutate.function == "my_operators:mut_step"
    assert config.strategy.mate.function == "deap.tools:cxTwoPoint"
    # Same strategy, a cheap objective instead of training, so the test takes seconds.
    config.evaluator.objective, config.evaluator.workers, config.budget = "era_deap.training.objectives:landscape", 0, 25
    result = run_search(config, tmp_path / "run")
    assert result["trained"] == 25 and result["finished"]
    import my_operators
    calls = []
    monkeypatch.setattr(my_operators, "mut_step", lambda ind, space, steps: calls.append(steps) or (ind,))
    run_search(config, tmp_path / "again")
    assert calls and set(calls) == {2}


def test_plot_logbook_example(tmp_path):
    config = load_search_config(EXAMPLES.parent / "configs" / "quick" / "regularized_evolution.yaml")
    config.evaluator.objective, config.evaluator.workers, config.budget = "era_deap.training.objectives:landscape", 0, 12
    run_search(config, tmp_path / "run")
    out = tmp_path / "curve.png"
    subprocess.run([sys.executable, str(EXAMPLES / "plot_logbook.py"), str(tmp_path / "run"), str(out)], check=True,
                   capture_output=True)
    assert out.stat().st_size > 1000 and len(rows(tmp_path / "run")) == 12
