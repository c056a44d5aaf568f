"""`era bench analyse`: known curves give known correlations, rank shifts and top-k shares; the thesis's
own tables go through the same measures and give its table 9; the command reads a table file or a build
directory, says how much of the space it covers, and writes the page, the numbers and the figures."""
import gzip
import json
import math

import numpy as np
import pytest
from scipy import stats
from searchkit import era
from test_bench import built

from era_deap.bench.analysis import (
    Curves,
    analyse,
    buckets,
    depth_bias,
    fidelity,
    load_curves,
    panel_epochs,
    partial_spearman,
    percentile_ranks,
    rank_shifts,
    spearman_ci,
    thesis_numbers,
    top_agreement,
)
from era_deap.bench.table import Table
from era_deap.errors import ConfigError

EPOCHS = 6
FIGURES = ("rank_correlation", "epoch_matrix", "shift_depth", "shift_params", "depth_bias", "top_agreement")


def depth_biased_curve(arch, seed):
    """A curve whose last epoch is the landscape (the same ranking for every seed) and whose early epochs
    add a penalty growing with depth that fades by the end: short training biased against depth."""
    from era_deap.space.architecture import depth
    from era_deap.training.objectives import landscape
    final = landscape(arch) + 0.01 * seed
    curve = [{"epoch": e, "val_error": final + (EPOCHS - e) * depth(arch)} for e in range(1, EPOCHS + 1)]
    return {"error": curve[-1]["val_error"], "curve": curve}


def curves(errors, depth, params=None, lr_drops=()):
    """Curves from an array (networks, seeds, epochs), as load_curves makes them from a table."""
    errors = np.asarray(errors, dtype=float)
    n = errors.shape[0]
    return Curves(name="hand", source="<test>", complete=True, built=n, total=n,
                  seeds=list(range(errors.shape[1])), epochs=errors.shape[2], lr_drops=list(lr_drops),
                  keys=[f"net{i}" for i in range(n)], depth=np.asarray(depth, dtype=float),
                  params=np.asarray(params if params is not None else np.arange(1, n + 1) * 1000, dtype=float),
                  errors=errors)


@pytest.fixture(scope="module")
def table_path(tmp_path_factory):
    return built(tmp_path_factory.mktemp("analysis"), objective="test_bench_analysis:depth_biased_curve",
                 training={"epochs": EPOCHS})


def test_statistics_helpers_give_known_values():
    assert percentile_ranks([3.0, 1.0, 2.0]).tolist() == [100.0, 0.0, 50.0]
    assert percentile_ranks([1.0, 1.0, 2.0]).tolist() == [25.0, 25.0, 100.0]        # ties share a rank
    depth = np.array([8, 8, 8, 10, 12, 12, 14, 20])
    groups = buckets(depth, 4)
    assert sum(g.sum() for g in groups) == len(depth)
    for value in np.unique(depth):                                                 # a value is never split
        assert sum(bool(g[depth == value].any()) for g in groups) == 1
    x, y = np.arange(20.0), np.arange(20.0) ** 2 + np.sin(np.arange(20.0)) * 30
    result = spearman_ci(x, y)
    assert result["rho"] == pytest.approx(stats.spearmanr(x, y).statistic)
    half = 1.959964 * math.sqrt((1 + result["rho"] ** 2 / 2) / 17)                  # Bonett-Wright, n = 20
    assert result["low"] == pytest.approx(math.tanh(math.atanh(result["rho"]) - half), abs=1e-6)
    assert result["low"] < result["rho"] < result["high"] <= 1
    rng = np.random.default_rng(1)
    control = rng.normal(size=300)
    a, b = control + rng.normal(size=300), control + rng.normal(size=300)
    assert stats.spearmanr(a, b).statistic > 0.3 and abs(partial_spearman(a, b, control)["rho"]) < 0.15


def test_known_curves_give_known_rank_correlations_shifts_and_top_shares():
    # Five networks, two seeds, three epochs: at the end net0 is best and net4 worst (both seeds alike);
    # epoch 1 ranks them the other way round, epoch 2 as the end. The deepest is the best at the end.
    last = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    one_seed = np.stack([last[::-1], last, last], axis=1)                          # (networks, epochs)
    errors = np.stack([one_seed, one_seed], axis=1)                                 # (networks, seeds, epochs)
    c = curves(errors, depth=[50, 40, 30, 20, 10])
    f = fidelity(c)
    assert [row["mean"]["rho"] for row in f["rows"]] == pytest.approx([-1.0, 1.0, 1.0])
    assert [s for row in f["rows"] for s in row["per_seed"]] == pytest.approx([-1, -1, 1, 1, 1, 1])
    assert [row["across_seeds"] for row in f["rows"]] == pytest.approx([-1.0, 1.0, 1.0])
    assert f["ceiling"]["mean"] == pytest.approx(1.0) and f["ceiling"]["pairs"] == 1
    assert f["matrix"].shape == (3, 3) and f["matrix"][0, 2] == pytest.approx(-1.0)
    shifts = rank_shifts(c)
    assert shifts[0].tolist() == [100.0, 50.0, 0.0, -50.0, -100.0] and not shifts[1:].any()
    bias = depth_bias(c, shifts)
    first = bias["rows"][0]
    assert first["depth"]["rho"] == pytest.approx(1.0) and first["depth"]["p"] < 0.01     # deep: worse early
    assert first["params"]["rho"] == pytest.approx(-1.0)           # params run the other way here
    assert first["depth_fit"]["slope"] == pytest.approx(5.0)        # 200 points over 40 layers
    assert bias["rows"][1]["depth_fit"]["slope"] != bias["rows"][1]["depth_fit"]["slope"]   # nan: no shift at all
    assert len(bias["rows"]) == 2 and sum(bias["bucket_sizes"]) == 5
    top = top_agreement(c, fractions=(0.2, 0.4))
    assert top[0.2]["k"] == 1 and top[0.2]["share"] == [0.0, 1.0, 1.0] and top[0.2]["chance"] == 0.2
    assert top[0.4]["k"] == 2 and top[0.4]["share"] == [0.0, 1.0, 1.0] and top[0.4]["seed_to_seed"] == 1.0


def test_noise_lowers_the_across_seed_curve_to_the_ceiling():
    rng = np.random.default_rng(0)
    truth = np.linspace(5, 50, 200)
    errors = truth[:, None, None] + rng.normal(0, 6, size=(200, 3, 4))
    c = curves(errors, depth=rng.integers(8, 30, 200))
    f = fidelity(c)
    ceiling = f["ceiling"]["mean"]
    assert 0.5 < ceiling < 0.95
    assert f["rows"][-1]["across_seeds"] == pytest.approx(ceiling)       # at the end: seed vs seed
    assert f["rows"][-1]["mean"]["rho"] == pytest.approx(1.0)            # the end against itself
    assert all(abs(row["across_seeds"] - ceiling) < 0.1 for row in f["rows"])


def test_the_thesis_tables_go_through_the_same_measures_and_give_table_9():
    rows = {row["epochs"]: row for row in thesis_numbers()["rows"]}
    assert [round(rows[e]["rank_correlation"]["rho"], 2) for e in (5, 10, 20, 50)] == [-0.89, -0.43, 0.71, 0.94]
    assert rows[20]["rank_correlation"]["low"] < 0 < rows[20]["rank_correlation"]["high"]   # six networks
    assert rows[20]["shift_depth"]["rho"] > 0          # ResNet-110 ranks worse at 20 epochs than at 100
    assert len(thesis_numbers()["networks"]) == 6


def test_a_built_table_with_curves_shows_its_depth_bias(table_path):
    table = Table.load(str(table_path))
    a = analyse(table)
    c = a.curves
    assert c.n == 80 and c.errors.shape == (80, 3, EPOCHS) and c.complete and not c.left_out
    assert a.fidelity["rows"][-1]["mean"]["rho"] == pytest.approx(1.0)
    assert a.fidelity["ceiling"]["mean"] == pytest.approx(1.0)          # seeds differ by a constant: same ranks
    expected = stats.spearmanr(c.mean[:, 0], c.mean[:, -1]).statistic
    assert a.fidelity["rows"][0]["mean"]["rho"] == pytest.approx(expected)
    first = a.bias["rows"][0]
    assert first["depth"]["rho"] > 0.5 and first["depth"]["p"] < 1e-6
    assert first["depth_given_params"]["rho"] > 0.3 and first["depth_given_params"]["p"] < 0.01
    deepest, shallowest = first["buckets"][-1]["mean"], first["buckets"][0]["mean"]
    assert deepest > 0 > shallowest
    assert panel_epochs(c) == [1, 2, 3, 5]          # no lr drop in this schedule: the one before the end


def test_a_table_without_curves_or_with_failed_seeds_is_said_plainly(tmp_path, table_path):
    plain = built(tmp_path / "plain")                   # noisy_landscape: a number, no curve
    with pytest.raises(ConfigError, match=r"0 networks with every seed's \d+-epoch validation curve"):
        load_curves(Table.load(str(plain)))
    with gzip.open(table_path, "rt") as f:
        data = json.load(f)
    data["networks"][0]["results"][1] = {**data["networks"][0]["results"][1], "status": "error", "error": None}
    data["networks"] = data["networks"][:30]
    data["complete"] = False
    partial = tmp_path / "partial.json.gz"
    with gzip.open(partial, "wt") as f:
        json.dump(data, f)
    c = load_curves(Table.load(str(partial)))
    assert c.n == 29 and c.built == 30 and c.total == 80 and not c.complete
    assert c.left_out == {"a seed did not train (failed or missing)": 1}


def test_era_bench_analyse_writes_the_page_numbers_and_figures(tmp_path, table_path):
    build_dir = table_path.parent
    result = era("bench", "analyse", build_dir, "--out", tmp_path / "out")
    assert "table tiny (complete); 80 networks x 3 seeds x 6 epochs" in result.stdout
    out = tmp_path / "out"
    names = {p.name for p in out.iterdir()}
    assert names == {"analysis.md", "analysis.json"} | {f"{s}.{x}" for s in FIGURES for x in ("png", "svg")}
    page = (out / "analysis.md").read_text()
    assert "# Short training and deep networks: table `tiny`" in page
    assert "**complete**: all 80 unique networks of the space" in page
    assert "3 trainings per network (training seeds 0, 1, 2)" in page
    assert "6 epochs on digits" in page and "not* a network trained for r epochs" in page
    assert "deeper networks rank worse than they finish at epochs 1" in page
    for figure in FIGURES:
        assert f"]({figure}.png)" in page
    numbers = json.loads((out / "analysis.json").read_text())
    assert numbers["table"]["networks_used"] == 80 and numbers["table"]["epochs"] == EPOCHS
    assert numbers["depth_bias"]["rows"][0]["depth"]["rho"] > 0.5
    assert numbers["top_agreement"]["1%"]["share"][-1] == 1.0
    # The same table, the same files, byte for byte (in this process: the command line was checked above).
    from era_deap.cli import main
    assert main(["bench", "analyse", str(table_path), "--out", str(tmp_path / "again")]) == 0
    for name in names:
        assert (out / name).read_bytes() == (tmp_path / "again" / name).read_bytes(), name


def test_era_bench_analyse_defaults_and_errors(tmp_path, table_path, capsys, monkeypatch):
    with gzip.open(table_path, "rt") as f:
        data = json.load(f)
    data["networks"], data["complete"] = data["networks"][:20], False
    partial = tmp_path / "partial.json.gz"
    with gzip.open(partial, "wt") as f:
        json.dump(data, f)
    from era_deap.cli import main
    monkeypatch.chdir(tmp_path)
    assert main(["bench", "analyse", str(partial)]) == 0
    assert "PARTIAL, 20 of 80 networks" in capsys.readouterr().out
    page = (tmp_path / "runs" / "bench" / "analysis" / "tiny" / "analysis.md").read_text()
    assert "**PARTIAL**: 20 of the space's 80 unique networks" in page and "uniform random sample" in page
    assert main(["bench", "analyse", str(tmp_path / "nowhere.json.gz")]) == 2
    missing = capsys.readouterr().err
    assert len(missing.strip().splitlines()) == 1 and "no table" in missing, missing
