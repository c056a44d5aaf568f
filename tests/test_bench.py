"""The tabular benchmark: a build covers every network x seed, resumes after SIGKILL, and a search on
the table looks up exactly the table's row for its seed, refuses another space, and is reproducible
and resumable like any other search."""
import gzip
import json
import signal
import statistics
import time

import pytest
import yaml
from conftest import CONFIGS
from searchkit import era, rows, start_era, write_config

from era_deap.bench.build import JOURNAL, TABLE, run_build
from era_deap.bench.build_config import load_build_config
from era_deap.bench.lookup import TableObjective
from era_deap.bench.table import Table
from era_deap.errors import ConfigError, RunDirError
from era_deap.search.run import run_search
from era_deap.settings import EvaluatorConfig, load_search_config
from era_deap.space.space import load_space
from era_deap.training.evaluate import Evaluator

TINY_SPACE = """genes:
  block: [basic, bottleneck]
  s1: [0, 1]
  s2: [1]
  s3: [1, 2]
  s4: [1]
  filters: [2, 4]
  filter_update: [1, 2]
  group_size: [1, 2, 4]
"""


def build_config(tmp_path, objective="era_deap.training.objectives:noisy_landscape", name="tiny", **evaluator):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "space.yaml").write_text(TINY_SPACE)
    data = {"name": name, "space": "space.yaml", "seeds": 3,
            "evaluator": {"objective": objective, "workers": 0, **evaluator}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def sometimes_failing(arch, seed):
    """The landscape, but some (network, seed) pairs fail as trainings do: an exception, a NaN."""
    if arch["group_size"] == 4 and seed == 1:
        raise RuntimeError("failed on purpose")
    if arch["filters"] == 2 and arch["sections"][0] == 1 and seed == 2:
        return float("nan")
    from era_deap.training.objectives import landscape
    return landscape(arch)


def built(tmp_path, **kwargs):
    config = load_build_config(build_config(tmp_path, **kwargs))
    run_build(config, tmp_path / "build", log=lambda line: None)
    return tmp_path / "build" / TABLE


def test_build_covers_every_network_with_every_seed_and_failures_keep_their_reason(tmp_path):
    path = built(tmp_path, objective="test_bench:sometimes_failing")
    table = Table.load(str(path))
    space = load_space(tmp_path / "space.yaml")
    assert table.complete and len(table.networks) == space.n_unique == 80
    assert sorted(table.networks) == sorted(space.key(g) for g in space.unique_genomes())
    statuses = set()
    for network in table.networks.values():
        assert len(network["results"]) == 3 and network["params"] > 0 and network["macs"] > 0
        for result in network["results"]:
            statuses.add(result["status"])
            assert (result["error"] is None) == (result["status"] != "ok")
            if result["status"] != "ok":
                assert result["message"], result
    assert statuses >= {"ok", "error", "diverged"}
    provenance = table.provenance
    assert provenance["sessions"] == 1 and provenance["versions"]["era-deap"] and provenance["cpu_hours"] >= 0


def test_a_lookup_returns_the_tables_row_for_the_seed_mod_s(tmp_path):
    path = built(tmp_path)
    with gzip.open(path, "rt") as f:
        raw = {n["key"]: n for n in json.load(f)["networks"]}
    objective = TableObjective(str(path))
    evaluator = Evaluator(EvaluatorConfig(objective="table", table=str(path)), split_seed=0)
    for key, network in list(raw.items())[:6]:
        for seed in (0, 1, 2, 3, 1234567):
            row = network["results"][seed % 3]
            looked_up = objective(network["arch"], seed)
            assert looked_up["error"] == row["error"] and looked_up["status"] == row["status"]
            assert looked_up["seconds"] == (row["cpu_seconds"] if row["cpu_seconds"] is not None else row["seconds"])
            result = evaluator(network["arch"], seed)
            assert result.error == row["error"] and result.seconds == looked_up["seconds"]
    errors = {objective(network["arch"], s)["error"] for s in range(3)}
    assert len(errors) == 3       # the noisy objective: three seeds, three trainings


def test_observe_mean_returns_the_mean_over_the_tables_seeds_for_every_seed(tmp_path):
    path = built(tmp_path, objective="test_bench:sometimes_failing")
    table = Table.load(str(path))
    means = table.mean_errors()
    objective = TableObjective(str(path), observe="mean")
    evaluator = Evaluator(EvaluatorConfig(objective="table", table=str(path), observe="mean"), split_seed=0)
    partly_failed = 0
    for key, network in table.networks.items():
        trained = [r for r in network["results"] if r["status"] == "ok"]
        for seed in (0, 1, 2, 3, 1234567):
            looked_up = objective(network["arch"], seed)
            if not trained:
                assert looked_up["status"] != "ok"
                continue
            assert looked_up["status"] == "ok" and looked_up["error"] == pytest.approx(means[key])
            assert evaluator(network["arch"], seed).error == looked_up["error"]
            curve = [c["val_error"] for c in looked_up["curve"]]
            assert curve == pytest.approx([statistics.fmean(r["val_error"][e] for r in trained)
                                           for e in range(len(curve))])
        partly_failed += 0 < len(trained) < len(network["results"])
    assert partly_failed     # networks with a failed seed are observed as the mean of the others
    with pytest.raises(ConfigError, match="evaluator.observe: expected one of seed, mean"):
        TableObjective(str(path), observe="median")


def test_observe_is_checked_in_the_config(tmp_path):
    bad = write_config(tmp_path, "random_search", name="bad", evaluator={"observe": "mean"})
    with pytest.raises(ConfigError, match=r"evaluator.observe: expected 'seed' unless objective is table"):
        load_search_config(bad)
    odd = write_config(tmp_path, "random_search", name="odd", objective="table", evaluator={"table": "x",
                                                                                          "observe": "all"})
    with pytest.raises(ConfigError, match=r"evaluator.observe: expected 'seed' or 'mean'"):
        load_search_config(odd)


@pytest.mark.parametrize("observe", ["seed", "mean"])
def test_a_resumed_and_a_fresh_run_agree_in_both_observation_modes(tmp_path, observe):
    path = built(tmp_path)
    kwargs = dict(objective="table", space=tmp_path / "space.yaml", evaluator={"table": str(path), "observe": observe},
                  seed=5)
    run_search(load_search_config(write_config(tmp_path, "regularized_evolution", budget=24, name="fresh",
                                               **kwargs)), tmp_path / "fresh")
    run_search(load_search_config(write_config(tmp_path, "regularized_evolution", budget=10, name="resumed",
                                               **kwargs)), tmp_path / "resumed")
    run_search(load_search_config(write_config(tmp_path, "regularized_evolution", budget=24, name="resumed",
                                               **kwargs)), tmp_path / "resumed", resume=True)
    assert rows(tmp_path / "resumed") == rows(tmp_path / "fresh")
    table, means = Table.load(str(path)), Table.load(str(path)).mean_errors()
    for row in rows(tmp_path / "fresh"):
        if row["status"] == "ok":
            expected = means[row["key"]] if observe == "mean" else table.result(row["key"], int(row["seed"]))["error"]
            assert float(row["error"]) == pytest.approx(expected)


def test_a_search_on_another_space_is_one_clear_error_and_leaves_no_run_dir(tmp_path):
    path = built(tmp_path)
    config = load_search_config(write_config(tmp_path, "random_search", objective="table",
                                             space=CONFIGS / "quick" / "space.yaml", evaluator={"table": str(path)}))
    with pytest.raises(ConfigError, match=r"evaluator.table: table 'tiny' covers another space than this run's "
                                          r"\(.*quick/space.yaml\): the table has s1 \[0, 1\]"):
        run_search(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()
    result = era("search", write_config(tmp_path, "random_search", objective="table", name="cli",
                                        space=CONFIGS / "quick" / "space.yaml", evaluator={"table": str(path)}),
                 "--out", tmp_path / "cli-run", check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_unknown_or_partial_table_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="evaluator.table: no table 'nowhere'"):
        TableObjective("nowhere")
    path = built(tmp_path)
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    data["networks"] = data["networks"][:10]
    data["complete"] = False
    partial = tmp_path / "partial.json.gz"
    with gzip.open(partial, "wt") as f:
        json.dump(data, f)
    with pytest.raises(ConfigError, match=r"partial table \(10 of 80 networks\)"):
        TableObjective(str(partial))


@pytest.mark.parametrize("kind", ["regularized_evolution", "bayesian_optimization"])
def test_a_search_on_the_table_is_reproducible_and_resumes_with_a_grown_budget(tmp_path, kind):
    path = built(tmp_path)
    space = tmp_path / "space.yaml"
    kwargs = dict(objective="table", space=space, evaluator={"table": str(path)}, seed=3)
    first = run_search(load_search_config(write_config(tmp_path, kind, budget=20, name="a", **kwargs)), tmp_path / "a")
    run_search(load_search_config(write_config(tmp_path, kind, budget=20, name="b", **kwargs)), tmp_path / "b")
    assert rows(tmp_path / "a") == rows(tmp_path / "b") and first["trained"] == 20
    run_search(load_search_config(write_config(tmp_path, kind, budget=12, name="c", **kwargs)), tmp_path / "c")
    run_search(load_search_config(write_config(tmp_path, kind, budget=20, name="c", **kwargs)), tmp_path / "c",
               resume=True)
    assert rows(tmp_path / "c") == rows(tmp_path / "a")
    table = Table.load(str(path))
    for row in rows(tmp_path / "a"):   # every error is the table's, for the run's evaluation seed
        if row["cached"] == "0":
            assert float(row["error"]) == table.result(row["key"], int(row["seed"]))["error"]


def test_a_build_killed_with_sigkill_resumes_to_the_same_table(tmp_path):
    config = build_config(tmp_path, objective="era_deap.training.objectives:paced_landscape", name="killed")
    out = tmp_path / "killed-build"
    env = {"ERA_OBJECTIVE_SLEEP": "0.02"}
    for kill_after in (5, 19):
        process = start_era("bench", "build", config, "--out", out, "--no-progress", env=env)
        deadline = time.monotonic() + 60
        while _networks(out) < kill_after and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert kill_after <= _networks(out) < 80
    era("bench", "build", config, "--out", out, "--no-progress", env=env)
    resumed = Table.load(str(out / TABLE))
    assert resumed.complete and resumed.provenance["sessions"] == 3
    assert _networks(out) == 80          # nothing finished was trained again
    uninterrupted = built(tmp_path / "plain", objective="era_deap.training.objectives:paced_landscape")
    errors = lambda t: {k: [r["error"] for r in n["results"]] for k, n in Table.load(str(t)).networks.items()}  # noqa: E731
    assert errors(out / TABLE) == errors(uninterrupted)


def _networks(out) -> int:
    path = out / JOURNAL
    return path.read_bytes().count(b'"type":"network"') if path.exists() else 0


def test_a_changed_recipe_is_refused_on_the_same_build_dir(tmp_path):
    path = build_config(tmp_path)
    config = load_build_config(path)
    run_build(config, tmp_path / "build", log=lambda line: None)
    config.evaluator.objective = "era_deap.training.objectives:landscape"
    with pytest.raises(RunDirError, match="evaluator.objective"):
        run_build(config, tmp_path / "build", log=lambda line: None)


def test_a_real_training_build_trains_seeds_as_a_group(tmp_path, one_torch_thread):
    (tmp_path / "space.yaml").write_text(TINY_SPACE.replace("[basic, bottleneck]", "[basic]")
                                         .replace("[0, 1]", "[0]").replace("[1, 2]", "[1]")
                                         .replace("[1, 2, 4]", "[2]")
                                         .replace("filter_update: [1, 2]", "filter_update: [2]"))
    data = {"name": "live", "space": "space.yaml", "seeds": 3,
            "evaluator": {"objective": "train", "workers": 0, "device": "cpu", "dataset": {"name": "digits"},
                          "training": {"epochs": 2, "batch_size": 64, "lr": 0.05, "lr_milestones": [0.5]}}}
    (tmp_path / "live.yaml").write_text(yaml.safe_dump(data))
    header = run_build(load_build_config(tmp_path / "live.yaml"), tmp_path / "b", log=lambda line: None)
    table = Table.load(str(tmp_path / "b" / TABLE))
    assert header["complete"] and len(table.networks) == 2
    for network in table.networks.values():
        assert [r["status"] for r in network["results"]] == ["ok"] * 3
        assert all(len(r["val_error"]) == 2 and r["cpu_seconds"] > 0 for r in network["results"])
        assert len({r["error"] for r in network["results"]}) > 1


def test_the_bench_profile_searches_the_shipped_table_at_thesis_hyperparameters():
    from era_deap.bench.table import shipped
    if "digits-quick" not in shipped():
        pytest.skip("the digits-quick table is not built yet")
    base = yaml.safe_load((CONFIGS / "bench" / "base.yaml").read_text())
    assert base["evaluator"] == {"objective": "table", "table": "digits-quick", "observe": "mean", "workers": 0}
    config = load_search_config(CONFIGS / "bench" / "regularized_evolution.yaml")
    assert config.budget == 200 and config.strategy.population_size == 50
    assert load_space(config.space).describe() == Table.load("digits-quick").space.describe()


def test_a_run_on_a_table_keeps_simulated_time_the_recorded_training_seconds_summed(tmp_path):
    path = built(tmp_path)
    config = write_config(tmp_path, "random_search", objective="table", space=tmp_path / "space.yaml",
                          evaluator={"table": str(path)}, budget=10)
    result = run_search(load_search_config(config), tmp_path / "run")
    clock, expected = 0.0, []
    for row in rows(tmp_path / "run", drop=()):
        clock += float(row["seconds"])
        expected.append(pytest.approx(clock, abs=2e-3))
    assert [float(r["elapsed"]) for r in rows(tmp_path / "run", drop=())] == expected
    assert result["clock"] == "simulated" and result["elapsed"] == pytest.approx(clock, abs=2e-3)


@pytest.mark.parametrize("damage, message", [
    (lambda d: d.pop("networks"), r"networks: expected a list of networks, got '\(absent\)'"),
    (lambda d: d.pop("seeds"), r"seeds: expected the training seeds \(a non-empty list\)"),
    (lambda d: d["networks"][3]["results"][1].update(error="abc"),
     r"networks\[3\] \(.*\)\.results\[1\]\.error: expected a number for an ok result, got 'abc'"),
    (lambda d: d["networks"][3]["results"][0].update(error=None),
     r"networks\[3\] \(.*\)\.results\[0\]\.error: expected a number for an ok result, got None"),
    (lambda d: d["networks"][5].update(results=[]),
     r"networks\[5\] \(.*\)\.results: expected one result per seed \(a non-empty list\), got \[\]"),
])
def test_a_damaged_table_file_is_one_line_naming_file_and_key(tmp_path, damage, message):
    path = built(tmp_path)
    with gzip.open(path, "rt") as f:
        data = json.load(f)
    damage(data)
    bad = tmp_path / "bad.json.gz"
    with gzip.open(bad, "wt") as f:
        json.dump(data, f)
    with pytest.raises(ConfigError, match=message):
        Table.load(str(bad))
    for command in (["bench", "info", bad],
                    ["search", write_config(tmp_path, "random_search", objective="table", space=tmp_path / "space.yaml",
                                            evaluator={"table": str(bad)}), "--out", tmp_path / "run"]):
        result = era(*command, check=False)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "bad.json.gz: " in result.stderr and not (tmp_path / "run").exists()


def test_a_relative_table_path_is_relative_to_the_config_file_and_a_missing_one_says_where_it_looked(tmp_path):
    path = built(tmp_path / "tables")                  # tmp_path/tables/build/table.json.gz
    configs = tmp_path / "configs"
    configs.mkdir()
    text = {"name": "rel", "space": "../tables/space.yaml", "budget": 5,
            "strategy": {"kind": "random_search"},
            "evaluator": {"objective": "table", "table": "../tables/build/table.json.gz", "workers": 0}}
    (configs / "rel.yaml").write_text(yaml.safe_dump(text))
    config = load_search_config(configs / "rel.yaml")
    assert config.evaluator.table == str(path.resolve())
    result = run_search(config, tmp_path / "run")   # from any working directory
    assert result["trained"] == 5
    text["evaluator"]["table"] = "../tables/nothing.json.gz"
    (configs / "missing.yaml").write_text(yaml.safe_dump(text))
    with pytest.raises(ConfigError, match=rf"no table .*looked for {tmp_path.resolve()}/tables/nothing.json.gz"):
        run_search(load_search_config(configs / "missing.yaml"), tmp_path / "other")


def test_a_search_on_the_shipped_table_without_its_space_names_the_space_file(tmp_path):
    from era_deap.bench.table import shipped
    if "digits-quick" not in shipped():
        pytest.skip("the digits-quick table is not built yet")
    path = tmp_path / "no-space.yaml"
    path.write_text(yaml.safe_dump({"name": "no_space", "budget": 5, "strategy": {"kind": "random_search"},
                                    "evaluator": {"objective": "table", "table": "digits-quick", "workers": 0}}))
    with pytest.raises(ConfigError, match=r"covers another space than this run's .*; set `space:` to the table's "
                                          r"space file \(.*configs/quick/space.yaml\)"):
        run_search(load_search_config(path), tmp_path / "run")


def test_resolution_counts_the_networks_a_t_test_cannot_tell_from_the_optimum(tmp_path, capsys):
    """bench.summary.resolution on a small table, recomputed here: the pooled seed sd over the top 10%, the
    two-sided t-test of each network's mean error against the optimum's, Spearman within the top."""
    import itertools

    import numpy as np
    from scipy import stats

    from era_deap.bench.summary import resolution
    from era_deap.cli import main
    table = Table.load(str(built(tmp_path)))
    means = table.mean_errors()
    keys = sorted(means, key=lambda k: (means[k], k))
    errors = np.array([[r["error"] for r in table.networks[k]["results"]] for k in keys])
    top = errors[:round(len(keys) * 0.1)]
    pooled = np.sqrt(((top - top.mean(axis=1, keepdims=True)) ** 2).sum() / (top.size - len(top)))
    df = top.size - len(top)
    t = np.abs(errors.mean(axis=1) - errors[0].mean()) / (pooled * np.sqrt(2 / 3))
    info = resolution(table)
    assert info["pooled_sd"] == pytest.approx(pooled) and info["df"] == df
    assert info["tied_with_optimum"] == int(np.sum(2 * stats.t.sf(t, df) >= 0.05)) >= 1
    top5 = [errors[np.argsort(errors[:, c], kind="stable")[:max(3, round(len(keys) * 0.05))]] for c in range(3)]
    rhos = [stats.spearmanr(*[t5[:, s] for s in range(3) if s != c]).statistic for c, t5 in enumerate(top5)]
    assert info["top_spearman"][5] == pytest.approx(np.mean(rhos))
    assert set(info["top_spearman"]) == {1, 5, 10}
    assert list(itertools.islice(info, 2)) == ["top_spearman", "tied_with_optimum"]
    assert main(["bench", "info", str(tmp_path / "build")]) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if "resolution:" in x)
    assert f"{info['tied_with_optimum']:,} networks cannot be told from the optimum" in line
    assert f"top 5% {info['top_spearman'][5]:.2f}" in line
