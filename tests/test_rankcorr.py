"""era rankcorr (thesis §4.2): He ResNets as genomes, the in/out-of-space split, Spearman matrices
against scipy, the outputs, and resuming a study."""
import csv
import json
import os
import re

import numpy as np
import pytest
from conftest import CONFIGS
from scipy import stats

from era_deap.cli import main
from era_deap.config import ConfigError
from era_deap.rankcorr import study as rankcorr
from era_deap.rankcorr import workers
from era_deap.rankcorr.run import run_study
from era_deap.rankcorr.tables import spearman_matrix
from era_deap.search.executor import Done
from era_deap.search.runlock import RunLock
from era_deap.space.families import Network, genome_key, space_problems
from era_deap.space.space import SearchSpace, load_space
from era_deap.training.model import complexity
from era_deap.training.result import EvalResult

TINY = """\
fidelities: [1, 2, 3]
width: {depths: [8], widths: [4, 8, 16]}
depth: {depths: [8, 14], widths: [4]}
space: space.yaml
device: cpu
workers: 2
dataset: {name: digits, train_size: 300, validation_size: 150}
training: {batch_size: 64, lr: 0.05}
"""
# Sections of at most one block and filters up to 4: ResNet-14 (2 blocks) and width 16 (filters 8) are outside.
TINY_SPACE = """\
genes:
  block: [basic, bottleneck]
  s1: {min: 0, max: 1}
  s2: {min: 1, max: 1}
  s3: {min: 1, max: 1}
  s4: {min: 1, max: 1}
  filters: [2, 4]
  filter_update: [1, 2]
  group_size: [1, 2, 4]
"""


@pytest.fixture
def tiny(tmp_path):
    (tmp_path / "space.yaml").write_text(TINY_SPACE)
    (tmp_path / "rankcorr.yaml").write_text(TINY)
    return tmp_path / "rankcorr.yaml"


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


# --- networks ---------------------------------------------------------------------------------------

def test_he_resnets_map_to_the_thesis_genomes():
    resnet110 = Network(110, 16).arch()
    assert resnet110 == {"block": "basic", "sections": [0, 18, 18, 18], "filters": 8, "filter_update": 2,
                         "group_size": 8}
    info = complexity(resnet110)
    assert info["depth"] == 110 and round(info["params"] / 1e6, 1) == 1.7        # thesis table 1
    assert round(complexity(Network(110, 32).arch())["params"] / 1e6, 1) == 6.9  # the wide baseline
    for width, filters in ((8, 4), (16, 8), (32, 16), (64, 32)):
        arch = Network(56, width).arch()
        assert arch["filters"] == filters and complexity(arch)["depth"] == 56
        assert arch["filters"] // min(arch["group_size"], arch["filters"]) == 1   # cardinality 1


def test_in_space_is_decided_by_the_space_file(tmp_path):
    default = load_space(None)
    assert genome_key(Network(56, 64), default) == "basic-0.9.9.9-f32-u2-g32"   # filters 32: inside
    assert genome_key(Network(110, 16), default) == "basic-0.18.18.18-f8-u2-g8"
    assert space_problems(Network(602, 16), default) == [f"s{i} 100 not in 1..18" for i in (2, 3, 4)]
    # filters 64 is allowed, but no group size >= 64 exists: cardinality 1 is impossible.
    assert space_problems(Network(56, 128), default) == ["no group size >= 64 (cardinality 1)"]
    narrow = SearchSpace({**{g.name: list(g.values) for g in default.genes}, "filters": [2, 4, 8, 16]})
    assert genome_key(Network(56, 64), narrow) is None
    assert genome_key(Network(56, 32), narrow) == "basic-0.9.9.9-f16-u2-g32"


# --- configs ----------------------------------------------------------------------------------------

def test_config_is_strict(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_text("fidelity: [1, 2]\n")
    with pytest.raises(ConfigError, match="unknown key fidelity; did you mean fidelities"):
        rankcorr.load_rankcorr_config(path)
    path.write_text("depth: {depths: [15]}\n")
    with pytest.raises(ConfigError, match=r"r.yaml:1: depth.depths: expected CIFAR ResNet depths 6n\+2"):
        rankcorr.load_rankcorr_config(path)
    path.write_text("fidelities: [4, 2]\n")
    with pytest.raises(ConfigError, match="fidelities: expected increasing epochs"):
        rankcorr.load_rankcorr_config(path)
    path.write_text("space: nowhere.yaml\n")
    with pytest.raises(ConfigError, match="space: file not found"):
        rankcorr.load_rankcorr_config(path)


def test_profile_configs_describe_the_thesis_study():
    thesis = rankcorr.load_rankcorr_config(CONFIGS / "thesis" / "rankcorr.yaml")
    assert thesis.fidelities == [5, 10, 20, 50, 100]
    assert [n.name for n in thesis.families()["width"]] == [f"ResNet-56 w{w}" for w in (8, 16, 32, 64)]
    assert [n.depth for n in thesis.families()["depth"]] == [14, 32, 56, 110, 602]
    assert thesis.dataset.name == "cifar10" and thesis.space == str(CONFIGS / "space.yaml")
    assert thesis.schedule(20).milestone_epochs() == [17]          # the search's 20-epoch schedule
    quick = rankcorr.load_rankcorr_config(CONFIGS / "quick" / "rankcorr.yaml")
    assert quick.dataset.name == "digits" and max(quick.fidelities) <= 16
    rows = rankcorr.network_rows(quick, load_space(quick.space))
    assert any(r["in_space"] for r in rows) and not all(r["in_space"] for r in rows)


def test_training_seeds_differ_per_network_and_fidelity_and_are_stable():
    a, b = Network(8, 4), Network(8, 8)
    seeds = {rankcorr.training_seed(0, n, e) for n in (a, b) for e in (1, 2)}
    assert len(seeds) == 4
    assert rankcorr.training_seed(0, a, 1) == rankcorr.training_seed(0, Network(8, 4), 1)
    assert rankcorr.training_seed(1, a, 1) != rankcorr.training_seed(0, a, 1)


# --- statistics -------------------------------------------------------------------------------------

def test_spearman_matrix_is_scipy_pairwise_over_complete_networks():
    rng = np.random.default_rng(0)
    accuracy = np.round(rng.uniform(10, 95, size=(4, 6)), 0)
    accuracy[1, 2] = accuracy[1, 3]                      # a tie
    accuracy[2, 5] = np.nan                              # network 5 lacks a fidelity: left out
    rho = spearman_matrix(accuracy)
    complete = accuracy[:, :5]
    for i in range(4):
        for j in range(4):
            assert rho[i, j] == pytest.approx(stats.spearmanr(complete[i], complete[j]).statistic)
    two = spearman_matrix(complete[:2])
    assert two.shape == (2, 2) and two[0, 1] == pytest.approx(stats.spearmanr(complete[0], complete[1]).statistic)
    assert spearman_matrix(np.array([[1.0, np.nan], [2.0, 3.0]])) is None          # one complete network
    constant = spearman_matrix(np.array([[10.0, 10.0, 10.0], [1.0, 2.0, 3.0]]))
    assert np.isnan(constant[0, 1]) and constant[1, 1] == 1.0


# --- the study --------------------------------------------------------------------------------------

def test_study_writes_tables_matrices_and_heatmaps_and_resumes(tiny, capsys):
    config = rankcorr.load_rankcorr_config(tiny)
    out = tiny.parent / "out"
    assert main(["rankcorr", str(tiny), "--out", str(out)]) == 0
    # Each training's error, as every era command reports results, above a progress bar; the legend.
    err = capsys.readouterr().err
    assert len(re.findall(r"ResNet-\d+ w\d+ +\d epochs: error \d+\.\d\d% \(validation\)", err)) == 12
    assert "accuracy" not in err and f"rankcorr: {rankcorr.WIDTH_LEGEND}" in err and "12/12" in err
    for stem in ("spearman_width", "spearman_width_in_space", "spearman_depth", "spearman_in_space"):
        assert (out / f"{stem}.csv").is_file() and (out / f"{stem}.png").stat().st_size > 1000
        assert (out / f"{stem}.svg").read_text().startswith("<?xml")
    # The depth family has one network inside the tiny space: no in-space matrix, and the page says why.
    assert not (out / "spearman_depth_in_space.csv").exists()
    page = (out / "rankcorr.md").read_text()
    assert "Table 8: rank correlation of the depth family, search-space networks only\n\nNeeds two" in page
    assert "![spearman_in_space](spearman_in_space.png)" in page

    networks = {r["network"]: r for r in read_csv(out / "networks.csv")}
    assert {n: (r["width"], r["filters"]) for n, r in networks.items()} == {   # He et al.'s width, the gene
        "ResNet-8 w4": ("4", "2"), "ResNet-8 w8": ("8", "4"), "ResNet-8 w16": ("16", "8"), "ResNet-14 w4": ("4", "2")}
    assert f"Names are ResNet-<depth> w<W>; {rankcorr.WIDTH_LEGEND}." in page
    assert "e.g. w16 = filters 8" in rankcorr.WIDTH_LEGEND
    assert {n: r["in_space"] for n, r in networks.items()} == {
        "ResNet-8 w4": "1", "ResNet-8 w8": "1", "ResNet-8 w16": "0", "ResNet-14 w4": "0"}
    assert networks["ResNet-14 w4"]["why_outside"] == "s2 2 not in 1; s3 2 not in 1; s4 2 not in 1"

    # Every matrix is scipy's Spearman rho of the accuracy table's rows, over the networks it names.
    width = read_csv(out / "accuracy_width.csv")
    acc = {name: [float(r[name]) for r in width] for name in ("ResNet-8 w4", "ResNet-8 w8", "ResNet-8 w16")}
    for stem, names in (("spearman_width", ["ResNet-8 w4", "ResNet-8 w8", "ResNet-8 w16"]),
                        ("spearman_width_in_space", ["ResNet-8 w4", "ResNet-8 w8"])):
        table = np.array([acc[n] for n in names]).T          # rows: fidelities
        for row in read_csv(out / f"{stem}.csv"):
            i = config.fidelities.index(int(row["epochs"]))
            for j, epochs in enumerate(config.fidelities):
                expected = stats.spearmanr(table[i], table[j]).statistic
                got = float(row[str(epochs)]) if row[str(epochs)] else np.nan
                assert got == pytest.approx(expected, nan_ok=True)
    saved = json.loads((out / "trainings" / "resnet8-w8-e2.json").read_text())
    assert saved["status"] == "ok" and len(saved["curve"]) == 2 and saved["error_kind"] == "validation"

    # Resuming trains nothing; a lost result, one whose setup changed, or one that failed in a way
    # another try may fix (oom, error) is all that is trained again; a divergence is final.
    def trained():
        lines = []
        run_study(config, out, log=lines.append)
        assert lines[1] == f"rankcorr: {rankcorr.WIDTH_LEGEND}"
        return sorted(" ".join(line.split()[:3]) for line in lines[2:])

    def edit(name, change):
        path = out / "trainings" / f"{name}.json"
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))

    assert trained() == []
    assert main(["rankcorr", str(tiny), "--out", str(out), "--no-progress"]) == 0     # nothing to train
    assert "0 to train" in capsys.readouterr().err
    (out / "trainings" / "resnet14-w4-e3.json").unlink()
    edit("resnet8-w4-e1", lambda d: d["setup"]["training"].update(lr=0.5))
    edit("resnet8-w8-e2", lambda d: d.update(status="oom"))
    edit("resnet8-w16-e2", lambda d: d.update(status="diverged"))
    assert trained() == ["ResNet-14 w4 3", "ResNet-8 w4 1", "ResNet-8 w8 2"]


class FakeExecutor:
    """Answers each training at once (an oom for the widest network); interrupted at `interrupt_at` epochs."""
    opened = []
    interrupt_at = None

    def __init__(self, evaluator_config, split_seed, workers):
        self.config, self.split_seed, self.workers = evaluator_config, split_seed, workers
        self.submitted, self.closed = [], False
        FakeExecutor.opened.append(self)

    @property
    def capacity(self):
        return self.workers

    def submit(self, n, arch, seed):
        self.submitted.append((n, arch, seed))

    def next_event(self):
        epochs = self.config.training.epochs
        if epochs == self.interrupt_at:
            raise KeyboardInterrupt
        n, arch, seed = self.submitted.pop(0)
        if arch["filters"] == 8:
            return Done(n, EvalResult("oom", message="OutOfMemoryError: no room", seconds=0.25,
                                      worker="w1:cpu"))
        curve = [{"epoch": e + 1, "val_error": 20.0, "seconds": 0.5 * (e + 1)} for e in range(epochs)]
        return Done(n, EvalResult("ok", error=20.0, seconds=9.0, params=123, curve=curve, worker="w0:cpu"))

    def close(self):
        self.closed = True


def test_trainings_run_on_the_executors_per_fidelity_and_ctrl_c_keeps_what_finished(tiny, monkeypatch):
    config = rankcorr.load_rankcorr_config(tiny)
    out = tiny.parent / "out"
    monkeypatch.setattr(FakeExecutor, "opened", [])
    monkeypatch.setattr(FakeExecutor, "interrupt_at", 2)
    monkeypatch.setattr(workers, "make_executor", FakeExecutor)
    with pytest.raises(KeyboardInterrupt):
        run_study(config, out, log=lambda line: None)
    # Low fidelities first, one executor each with that fidelity's schedule; every executor closed.
    assert [e.config.training.epochs for e in FakeExecutor.opened] == [1, 2]
    assert all(e.closed for e in FakeExecutor.opened)
    first = FakeExecutor.opened[0]
    assert first.config.training == config.schedule(1) and first.config.dataset == config.dataset
    assert first.split_seed == config.seed and first.workers == 2
    # The fidelity that completed is saved (in today's format) and its outputs written; nothing of the next.
    assert sorted(p.name for p in (out / "trainings").iterdir()) == [
        "resnet14-w4-e1.json", "resnet8-w16-e1.json", "resnet8-w4-e1.json", "resnet8-w8-e1.json"]
    assert (out / "rankcorr.md").is_file()
    network = Network(8, 4)
    ok = json.loads((out / "trainings" / "resnet8-w4-e1.json").read_text())
    assert ok == {"network": "ResNet-8 w4", "depth": 8, "width": 4, "device": "cpu",
                  "setup": json.loads(json.dumps(rankcorr.setup(config, network, 1))), "status": "ok",
                  "accuracy": 80.0, "error": 20.0, "error_kind": "validation", "params": 123, "seconds": 0.5,
                  "curve": [{"epoch": 1, "val_error": 20.0, "seconds": 0.5}]}
    assert rankcorr.load_result(out, config, network, 1) == ok                 # reused on the next run
    oom = json.loads((out / "trainings" / "resnet8-w16-e1.json").read_text())
    assert {k: oom[k] for k in ("status", "accuracy", "message", "seconds")} == {
        "status": "oom", "accuracy": None, "message": "OutOfMemoryError: no room", "seconds": 0.25}
    assert rankcorr.load_result(out, config, Network(8, 16), 1) is None        # retried on the next run


def test_a_study_directory_in_use_is_refused_in_one_line(tiny, capsys):
    out = tiny.parent / "out"
    out.mkdir()
    with RunLock(out):
        assert main(["rankcorr", str(tiny), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{out} is in use by process {os.getpid()}" in err
    assert "another `era rankcorr`" in err
