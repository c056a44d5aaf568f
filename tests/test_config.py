import subprocess
import sys
import textwrap

import pytest
from conftest import CONFIGS
from searchkit import SMALL

from era_deap.config import ConfigError
from era_deap.search.evolution import EvolutionConfig
from era_deap.search.run import run_search
from era_deap.search.variation import OperatorSpec
from era_deap.settings import (
    STRATEGIES,
    EvaluatorConfig,
    SearchConfig,
    load_search_config,
    search_config_from,
    strategy_class,
    strategy_config,
)

GOOD = """\
name: reg
space: {space}
seed: 3
budget: 20
strategy: {{kind: regularized_evolution, population_size: 10}}
evaluator:
  objective: train
  dataset: {{name: digits}}
  training: {{epochs: 5}}
"""


def write(tmp_path, text, name="search.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path, text):
    return load_search_config(write(tmp_path, text))


def test_a_good_config_loads_with_thesis_defaults(tmp_path):
    config = load(tmp_path, GOOD.format(space=CONFIGS / "space.yaml"))
    assert config.budget == 20 and config.seed == 3
    assert config.strategy.tournament_size == 2 and config.strategy.population_size == 10
    assert config.evaluator.training.epochs == 5
    assert config.evaluator.training.lr == 0.1 and config.evaluator.training.milestone_epochs() == [4]
    assert config.evaluator.final.epochs == 164 and config.evaluator.final.milestone_epochs() == [82, 123]


def test_search_defaults_reproduce_thesis_schedule(tmp_path):
    config = load(tmp_path, "name: x\nstrategy: {kind: crossover_evolution}\n")
    t = config.evaluator.training
    assert (t.epochs, t.batch_size, t.lr, t.momentum, t.weight_decay) == (20, 128, 0.1, 0.9, 1e-4)
    assert t.milestone_epochs() == [17]  # lr 0.01 for the last 3 of 20 epochs
    assert config.strategy.tournament_size == 3 and config.strategy.population_size == 50
    assert config.budget == 200


def test_a_partial_final_schedule_keeps_the_full_schedule_for_what_it_leaves_out(tmp_path):
    config = load(tmp_path, "name: x\nstrategy: {kind: evolution}\nevaluator: {final: {epochs: 100, lr: 0.05}}\n")
    final = config.evaluator.final
    assert (final.epochs, final.lr) == (100, 0.05)
    assert final.milestone_epochs() == [50, 75] and final.use_validation_data is True   # full schedule
    assert config.evaluator.training.use_validation_data is False                       # search schedule
    with pytest.raises(ConfigError, match=r"evaluator.final.lr: expected a value > 0"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution}\nevaluator: {final: {lr: 0}}\n")


def test_malformed_yaml_names_file_line_and_column(tmp_path):
    with pytest.raises(ConfigError, match=r"search.yaml:3:\d+: malformed YAML"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution\nbudget: 3\n")


def test_unknown_key_names_the_dotted_key_and_nearest_valid_key(tmp_path):
    with pytest.raises(ConfigError, match=r"search.yaml:4: unknown key evaluator.training.epoch; "
                                               r"did you mean evaluator.training.epochs\?"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution}\nevaluator:\n  training: {epoch: 3}\n")
    with pytest.raises(ConfigError, match=r"unknown key budgett; did you mean budget\?"):
        load(tmp_path, "name: x\nbudgett: 3\nstrategy: {kind: evolution}\n")
    with pytest.raises(ConfigError, match=r"unknown key strategy.population; did you mean strategy.population_size\?"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution, population: 3}\n")


def test_wrong_types_and_values_name_key_expectation_and_value(tmp_path):
    cases = {
        "budget: many": r"search.yaml:2: budget: expected an integer, got 'many'",
        "budget: 0": r"budget: expected a value >= 1, got 0",
        "seed: 1.5": r"seed: expected an integer, got 1.5",
        "evaluator: {training: {lr: -1}}": r"evaluator.training.lr: expected a value > 0, got -1",
        "evaluator: {dataset: {name: mnist}}":
            r"evaluator.dataset.name: expected one of 'cifar10', 'digits', 'synthetic', got 'mnist'",
        "evaluator: {workers: two}": r"evaluator.workers: expected an integer, got 'two'",
        "evaluator: {executor: 'localhost:8786'}": r"evaluator.executor: expected 'local' or a Dask scheduler address",
        "evaluator: {training: {lr_milestones: [0.9, 0.5]}}": r"lr_milestones: expected increasing fractions",
        "evaluator: {training: {nesterov: 'yes'}}": r"nesterov: expected true or false, got 'yes'",
    }
    for line, message in cases.items():
        with pytest.raises(ConfigError, match=message):
            load(tmp_path, f"name: x\n{line}\nstrategy: {{kind: evolution}}\n")


def test_strategy_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"strategy.kind: expected one of evolution, .*, "
                                               r"got 'evolutoin' \(did you mean evolution\?\)"):
        load(tmp_path, "name: x\nstrategy: {kind: evolutoin}\n")
    with pytest.raises(ConfigError, match=r"strategy.tournament_size: expected at most population_size \(4\), got 5"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution, population_size: 4, tournament_size: 5}\n")
    with pytest.raises(ConfigError, match=r"missing key strategy"):
        load(tmp_path, "name: x\n")
    with pytest.raises(ConfigError, match=r"strategy.mutate: expected 'package.module:function'"):
        load(tmp_path, "name: x\nstrategy: {kind: evolution, mutate: mutate_it}\n")


def test_a_strategy_config_built_in_python_is_complete():
    assert EvolutionConfig(kind="evolution").tournament_size == 2
    assert EvolutionConfig(kind="crossover_evolution").tournament_size == 3
    given = EvolutionConfig(kind="evolution", mutate="era_deap.operators:mut_uniform_reset")
    assert given.mutate == OperatorSpec("era_deap.operators:mut_uniform_reset")
    assert isinstance(given.mate, OperatorSpec)
    # the same object a file with the same keys gives
    for kind in ("evolution", "crossover_evolution"):
        loaded = search_config_from({"name": "x", "strategy": {"kind": kind}}).strategy
        assert loaded == EvolutionConfig(kind=kind)


# kind deap is asked by a user's script, not by a search (tests/test_problem.py runs it).
@pytest.mark.parametrize("kind", [k for k in STRATEGIES if k != "deap"])
def test_a_search_runs_with_a_config_built_in_python(tmp_path, kind):
    # Multi-fidelity kinds need an objective that can stop early (a learning curve) and its schedule's length.
    curve = kind in ("asha", "hyperband")
    strategy = strategy_config(kind)(kind=kind, **SMALL[kind], **({"max_epochs": 12} if curve else {}))
    objective = "era_deap.training.objectives:" + ("curved_landscape" if curve else "landscape")
    config = SearchConfig(name=kind, strategy=strategy, budget=12,
                          evaluator=EvaluatorConfig(objective=objective, workers=0))
    result = run_search(config, tmp_path / "run")
    assert result["finished"] and result["trained"] == 12


@pytest.mark.parametrize("kind", STRATEGIES)
def test_one_registry_names_each_strategy_whose_settings_sit_beside_its_class(kind):
    cls = strategy_class(kind)
    assert strategy_config(kind).__module__ == cls.__module__ and cls.kind == kind


def test_a_config_loads_without_importing_torch(tmp_path):
    # BO's module holds its settings; torch and GPyTorch load only when the strategy is built.
    path = write(tmp_path, "name: x\nstrategy: {kind: bayesian_optimization, initial_points: 4}\n")
    code = (f"import sys; from era_deap.settings import load_search_config; "
            f"c = load_search_config({str(path)!r}); assert c.strategy.initial_points == 4; "
            f"assert 'torch' not in sys.modules; print('light')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "light", out.stderr


def test_missing_space_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"search.yaml:2: space: file not found: .*nowhere.yaml"):
        load(tmp_path, "name: x\nspace: nowhere.yaml\nstrategy: {kind: evolution}\n")


def test_base_file_merges_and_paths_resolve_against_their_own_file(tmp_path):
    (tmp_path / "profile").mkdir()
    (tmp_path / "space.yaml").write_text((CONFIGS / "space.yaml").read_text())
    write(tmp_path, """\
        space: ../space.yaml
        seed: 1
        evaluator:
          dataset: {name: digits, data_dir: ../data}
          training: {epochs: 4, batch_size: 64}
        """, "profile/base.yaml")
    config = load_search_config(write(tmp_path, """\
        base: base.yaml
        name: evo
        strategy: {kind: evolution}
        evaluator: {training: {epochs: 2}}
        """, "profile/evo.yaml"))
    assert config.space == str((tmp_path / "space.yaml").resolve())
    assert config.evaluator.dataset.data_dir == str((tmp_path / "data").resolve())
    assert config.evaluator.training.epochs == 2 and config.evaluator.training.batch_size == 64
    assert config.seed == 1


@pytest.mark.parametrize("name", ["''", "'..'", "a/b", "'../x'", "'.hidden'"])
def test_a_name_that_is_no_plain_folder_name_is_refused(tmp_path, name):
    """The name is the run directory under runs/: '' would make runs/ itself the run (and --fresh would
    move every other run aside)."""
    with pytest.raises(ConfigError, match=r"search.yaml:1: name: expected a folder name"):
        load(tmp_path, f"name: {name}\nstrategy: {{kind: evolution}}\n")
