"""`era train`: flags, --config, --json, --out final.json, a CIFAR-10 folder end to end, one-line errors."""
import json

import pytest
import torch
from test_data import write_cifar10

from era_deap.cli import main

GENOME = ["--block", "basic", "--sections", "0,1,1,1", "--filters", "4", "--filter-update", "2",
          "--group-size", "1"]
FINAL_KEYS = {"name", "key", "arch", "depth", "params", "error", "error_kind", "epochs", "seconds",
              "train_images_per_second", "dataset", "curve"}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def era_train(capsys, *flags):
    code = main(["train", *GENOME, "--no-progress", *flags])
    out, err = capsys.readouterr()
    return code, out, err


def test_json_has_the_documented_keys(capsys):
    code, out, err = era_train(capsys, "--dataset", "synthetic", "--train-size", "256", "--epochs", "1", "--json")
    assert code == 0, err
    result = json.loads(out)
    assert {"error", "params", "seconds", "train_images_per_second"} <= set(result)
    assert result["error_kind"] == "validation" and 0 <= result["error"] <= 100
    assert result["params"] > 0 and result["seconds"] > 0 and result["train_images_per_second"] > 0


def test_out_writes_final_json_with_the_curve(tmp_path, capsys):
    code, out, _ = era_train(capsys, "--dataset", "synthetic", "--train-size", "256", "--epochs", "2",
                             "--out", str(tmp_path / "final"), "--name", "tiny", "--device", "cpu")
    assert code == 0
    final = json.loads((tmp_path / "final" / "final.json").read_text())
    assert FINAL_KEYS <= set(final)
    assert final["name"] == "tiny" and final["key"] == "basic-0.1.1.1-f4-u2-g1" and final["depth"] == 8
    assert final["arch"] == {"block": "basic", "sections": [0, 1, 1, 1], "filters": 4, "filter_update": 2,
                             "group_size": 1}
    assert final["epochs"] == 2 and len(final["curve"]) == 2 and final["dataset"] == "synthetic"
    assert final["precision"] == "fp32" and final["device"] == "cpu"
    assert final["training"]["epochs"] == 2 and final["training"]["use_validation_data"] is True
    # the text report names what the error is measured on
    assert "validation error:" in out and "synthetic has no test split" in out and "train images/s:" in out


def test_cifar10_folder_trains_end_to_end_and_reports_test_error(tmp_path, capsys):
    write_cifar10(tmp_path / "data")
    code, out, err = era_train(capsys, "--dataset", "cifar10", "--data-dir", str(tmp_path / "data"),
                               "--epochs", "2", "--json", "--out", str(tmp_path / "run"))
    assert code == 0, err
    assert json.loads(out)["error_kind"] == "test"
    final = json.loads((tmp_path / "run" / "final.json").read_text())
    # full training uses train + validation (all 300 images, as all 50,000 of the real set)
    assert final["train_images"] == 300 and final["sizes"] == {"train": 270, "validation": 30, "test": 60}
    assert [set(c) for c in final["curve"]] == [{"epoch", "train_loss", "test_error", "lr", "seconds"}] * 2


def test_default_dataset_is_digits_with_the_full_schedule(tmp_path, capsys):
    code, out, _ = era_train(capsys, "--epochs", "1", "--out", str(tmp_path))
    final = json.loads((tmp_path / "final.json").read_text())
    assert code == 0 and final["dataset"] == "digits"
    assert final["training"]["lr_milestones"] == [0.5, 0.75]


def test_config_supplies_final_schedule_and_dataset_flags_override(tmp_path, capsys):
    config = tmp_path / "search.yaml"
    config.write_text("name: t\nseed: 3\nstrategy: {kind: random_search}\n"
                      "evaluator:\n  dataset: {name: synthetic, shape: [1, 12, 12], train_size: 128}\n"
                      "  final: {epochs: 2, lr: 0.05, lr_milestones: [0.5]}\n")
    code, _, _ = era_train(capsys, "--config", str(config), "--out", str(tmp_path / "a"))
    final = json.loads((tmp_path / "a" / "final.json").read_text())
    assert code == 0 and final["epochs"] == 2
    assert [c["lr"] for c in final["curve"]] == pytest.approx([0.05, 0.005])
    assert final["split_seed"] == 3 and final["dataset_config"]["shape"] == [1, 12, 12]
    code, _, _ = era_train(capsys, "--config", str(config), "--epochs", "4", "--train-size", "64",
                           "--out", str(tmp_path / "b"))
    final = json.loads((tmp_path / "b" / "final.json").read_text())
    assert code == 0 and final["epochs"] == 4 and final["train_images"] == 64
    assert [c["lr"] for c in final["curve"]] == pytest.approx([0.05, 0.05, 0.005, 0.005])


def test_progress_bar_per_epoch(capsys):
    code = main(["train", *GENOME, "--dataset", "synthetic", "--train-size", "64", "--epochs", "2"])
    err = capsys.readouterr().err
    assert code == 0 and "epoch 1" in err and "epoch 2" in err and "2/2" in err


@pytest.mark.parametrize("flags, text", [
    (["--dataset", "cifar10", "--data-dir", "{tmp}/missing"], "missing/cifar-10-batches-py: CIFAR-10 not found"),
    (["--config", "{tmp}/nope.yaml"], "nope.yaml: file not found"),
    (["--dataset", "digits", "--train-size", "99999"], "evaluator.dataset.train_size"),
    (["--device", "tpu"], "--device: expected auto, cpu, cuda or cuda:N"),
])
def test_errors_are_one_line_with_exit_code_2(tmp_path, capsys, flags, text):
    code, out, err = era_train(capsys, *[f.format(tmp=tmp_path) for f in flags])
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("era train: error: ") and text in err


def test_bad_config_value_is_one_line(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("name: t\nstrategy: {kind: random_search}\nevaluator: {final: {epochs: 0}}\n")
    code, _, err = era_train(capsys, "--config", str(config))
    assert code == 2 and err.count("\n") == 1 and "final.epochs" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message where CUDA is absent")
def test_cuda_requested_without_cuda_is_one_line(capsys):
    code, _, err = era_train(capsys, "--device", "cuda")
    assert code == 2 and err.count("\n") == 1 and "CUDA is not available" in err


def test_genome_outside_the_space_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--block", "basic", "--sections", "0,1,1,1", "--filters", "5", "--filter-update", "2",
              "--group-size", "1"])
    assert info.value.code == 2 and "--filters" in capsys.readouterr().err


def test_divergence_is_one_line_and_exit_1(tmp_path, capsys):
    config = tmp_path / "hot.yaml"
    config.write_text("name: t\nstrategy: {kind: random_search}\n"
                      "evaluator: {dataset: {name: synthetic, shape: [3, 8, 8], train_size: 512},"
                      " final: {epochs: 2, lr: 1.0e+6, batch_size: 16}}\n")
    code, _, err = era_train(capsys, "--config", str(config))
    assert code == 1 and err.count("\n") == 1 and "NaN/inf" in err


@pytest.mark.parametrize("raised, text", [
    (RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 1 bytes"),
     "out of memory on cpu (RuntimeError); try another device or a smaller batch_size"),
    (MemoryError(), "out of memory on cpu (MemoryError)"),
])
def test_out_of_memory_is_one_line_and_exit_1_as_the_evaluator_classifies_it(monkeypatch, capsys, raised, text):
    # The CPU allocator's RuntimeError counts as out of memory too (evaluate.classify_failure).
    def train(*args, **kwargs):
        raise raised
    monkeypatch.setattr("era_deap.cli.train.train", train)
    code, _, err = era_train(capsys, "--dataset", "synthetic", "--train-size", "64", "--device", "cpu")
    assert code == 1 and err.count("\n") == 1 and text in err


def test_any_other_training_failure_keeps_its_traceback(monkeypatch):
    def train(*args, **kwargs):
        raise RuntimeError("shape mismatch")
    monkeypatch.setattr("era_deap.cli.train.train", train)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        main(["train", *GENOME, "--no-progress", "--dataset", "synthetic", "--train-size", "64"])


def test_final_json_that_cannot_be_written_is_one_line(tmp_path, capsys):
    (tmp_path / "final.json").mkdir()   # a folder where the file goes: the atomic rename fails
    code, _, err = era_train(capsys, "--dataset", "synthetic", "--train-size", "64", "--epochs", "1",
                             "--out", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    assert f"--out {tmp_path}: cannot write final.json: " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["final.json"]   # no temporary file left


def test_the_era_command_writes_everything_and_keeps_the_exit_code(tmp_path):
    # `era train` skips interpreter teardown (os._exit): output and final.json must be complete first.
    import subprocess
    import sys
    command = [sys.executable, "-m", "era_deap.cli", "train", *GENOME, "--no-progress", "--device", "cpu",
               "--dataset", "synthetic", "--train-size", "128", "--epochs", "1"]
    done = subprocess.run([*command, "--json", "--out", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 1
    assert json.loads((tmp_path / "final.json").read_text())["epochs"] == 1
    report = subprocess.run(command, capture_output=True, text=True)
    assert report.returncode == 0 and "train images/s:" in report.stdout.splitlines()[-1]   # the last line
    bad = subprocess.run([*command, "--epochs", "0"], capture_output=True, text=True)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
