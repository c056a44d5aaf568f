"""The shipped profiles: every config loads and validates, and the thesis profile is the thesis."""
import pytest
from conftest import CONFIGS

from era_deap.config import read_yaml
from era_deap.rankcorr.study import load_rankcorr_config
from era_deap.settings import load_search_config
from era_deap.space.space import load_space

SEARCHES = ("random_search", "local_search", "bayesian_optimization", "evolution", "regularized_evolution",
            "crossover_evolution")
PROFILES = ("quick", "thesis", "bench")   # (bench_mo and bench_mf: tests/test_report_mo.py, test_multifidelity.py)
# Beyond the thesis's six: a multi-fidelity search on the same training (docs/multifidelity.md).
EXTRA = {"quick": {"asha"}, "thesis": {"asha"}, "bench": set()}


def search_files(profile):
    return sorted(p for p in (CONFIGS / profile).glob("*.yaml") if "strategy" in read_yaml(p))


@pytest.mark.parametrize("profile", PROFILES)
def test_profile_has_the_six_searches_and_they_load(profile):
    files = search_files(profile)
    assert sorted(p.stem for p in files) == sorted(SEARCHES + tuple(EXTRA[profile]))
    for path in files:
        config = load_search_config(path)
        assert config.name == path.stem == config.strategy.kind   # run_all.sh names run dirs by file
        load_space(config.space)
        # Each search file holds only its own keys; everything shared is in base.yaml.
        assert set(read_yaml(path)) <= {"base", "name", "strategy", "budget", "budget_epochs"}
    if profile != "bench":   # the table profile has no training to correlate
        load_rankcorr_config(CONFIGS / profile / "rankcorr.yaml")


def test_thesis_profile_is_the_thesis_protocol():
    configs = {p.stem: load_search_config(p) for p in search_files("thesis") if p.stem in SEARCHES}
    for config in configs.values():
        ev = config.evaluator
        assert config.budget == 200 and config.space == str(CONFIGS / "space.yaml")
        assert ev.objective == "train" and ev.dataset.name == "cifar10" and ev.device == "auto"
        assert ev.dataset.data_dir == str(CONFIGS.parent / "data")
        t = ev.training   # A.3, search fidelity: 20 epochs, lr 0.01 for the last 3
        assert (t.epochs, t.batch_size, t.lr, t.momentum, t.weight_decay) == (20, 128, 0.1, 0.9, 1e-4)
        assert t.milestone_epochs() == [17] and not t.use_validation_data
        f = ev.final      # A.3, full training: 164 epochs on all 50k, lr / 10 at 50 % and 75 %
        assert (f.epochs, f.lr, f.milestone_epochs(), f.use_validation_data) == (164, 0.1, [82, 123], True)
    evolutionary = ("evolution", "regularized_evolution", "crossover_evolution")
    assert [configs[k].strategy.population_size for k in evolutionary] == [50, 50, 50]
    assert [configs[k].strategy.tournament_size for k in evolutionary] == [2, 2, 3]
    assert (configs["local_search"].strategy.random_samples, configs["local_search"].strategy.starts) == (50, 10)
    assert configs["bayesian_optimization"].strategy.initial_points == 9


def test_quick_profile_is_small_and_cpu():
    for path in search_files("quick"):
        config = load_search_config(path)
        ev = config.evaluator
        # A multi-fidelity search counts its rungs as networks: its epochs budget is the 30 x 3 of the others.
        small = config.budget <= 40 if config.budget_epochs is None else config.budget_epochs <= 40 * ev.training.epochs
        assert ev.dataset.name == "digits" and ev.device == "cpu" and small
        assert ev.training.epochs <= 5 and ev.final.epochs <= 20
        assert load_space(config.space).n_configurations < 10_000
