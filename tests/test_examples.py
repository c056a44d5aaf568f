"""The README's worked examples: a user's own operator plus a DEAP built-in, and plotting a logbook."""
import subprocess
import sys

from conftest import ROOT
from searchkit import rows

from era_deap.search.run import run_search
from era_deap.settings import load_search_config

EXAMPLES = ROOT / "examples"


def test_custom_operator_example_runs_and_uses_its_operators(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLES))  # `era search` puts the config's folder on the path
    config = load_search_config(EXAMPLES / "custom_operator.yaml")
    assert config.strategy.mutate.function == "my_operators:mut_step"
    assert config.strategy.mate.function == "deap.tools:cxTwoPoint"
    # Same strategy, a cheap objective instead of training, so the test takes seconds.
    config.evaluator.objective = "era_deap.training.objectives:landscape"
    config.evaluator.workers, config.budget = 0, 25
    result = run_search(config, tmp_path / "run")
    assert result["trained"] == 25 and result["finished"]
    import my_operators
    calls = []
    monkeypatch.setattr(my_operators, "mut_step", lambda ind, space, steps: calls.append(steps) or (ind,))
    run_search(config, tmp_path / "again")
    assert calls and set(calls) == {2}


def test_plot_logbook_example(tmp_path):
    config = load_search_config(EXAMPLES.parent / "configs" / "quick" / "regularized_evolution.yaml")
    config.evaluator.objective = "era_deap.training.objectives:landscape"
    config.evaluator.workers, config.budget = 0, 12
    run_search(config, tmp_path / "run")
    out = tmp_path / "curve.png"
    subprocess.run([sys.executable, str(EXAMPLES / "plot_logbook.py"), str(tmp_path / "run"), str(out)], check=True,
                   capture_output=True)
    assert out.stat().st_size > 1000 and len(rows(tmp_path / "run")) == 12


def test_step_mutation_example_differs_from_the_stock_bench_search_only_in_its_mutation(tmp_path, monkeypatch):
    """The README's `era compare` example: a controlled comparison, so only the operator may differ."""
    monkeypatch.syspath_prepend(str(EXAMPLES))
    stock = load_search_config(ROOT / "configs" / "bench" / "regularized_evolution.yaml")
    mine = load_search_config(EXAMPLES / "step_mutation.yaml")
    assert mine.strategy.mutate.function == "my_operators:mut_step"
    mine.evaluator.dataset.data_dir = stock.evaluator.dataset.data_dir   # relative to each config's folder
    assert (mine.evaluator, mine.budget, mine.space) == (stock.evaluator, stock.budget, stock.space)
    mine.strategy.mutate, mine.name = stock.strategy.mutate, stock.name
    assert mine.strategy == stock.strategy
    config = load_search_config(EXAMPLES / "step_mutation.yaml")
    config.budget = 60
    import my_operators
    calls = []
    step = my_operators.mut_step
    monkeypatch.setattr(my_operators, "mut_step",
                        lambda ind, space, steps: calls.append(steps) or step(ind, space, steps))
    result = run_search(config, tmp_path / "run")
    assert calls and set(calls) == {1}
    assert result["trained"] == 60 and result["finished"]
