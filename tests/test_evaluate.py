"""The evaluator: every failure becomes a status and the next evaluation in the same process is normal.

OOM is simulated twice: an objective raising MemoryError, and a training step (the network's forward)
raising torch.OutOfMemoryError (the class torch.cuda.OutOfMemoryError names)."""
import math
import subprocess
import sys
import weakref

import pytest
import torch

import era_deap.training.data as data_module
import era_deap.training.evaluate as evaluate_module
import era_deap.training.train as train_module
from era_deap.config import ConfigError
from era_deap.settings import DatasetConfig, EvaluatorConfig, TrainingConfig
from era_deap.training import result as R
from era_deap.training.evaluate import Evaluator, arch_problem, describe, evaluator_for, load_objective
from era_deap.training.model import complexity

TINY = {"block": "basic", "sections": [0, 1, 1, 1], "filters": 4, "filter_update": 2, "group_size": 1}
SHAPE = [3, 16, 16]


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def train_config(**training):
    return EvaluatorConfig(dataset=DatasetConfig(name="synthetic", shape=SHAPE, train_size=256),
                           training=TrainingConfig(**{"epochs": 2, "batch_size": 32, **training}))


def objective_config(name):
    return EvaluatorConfig(objective=f"{__name__}:{name}")


def assert_normal(evaluator, arch=TINY):
    """A successful training evaluation in the same process."""
    outcome = evaluator(arch, seed=1)
    assert outcome.status == R.OK, outcome.message
    assert math.isfinite(outcome.error) and len(outcome.curve) == 2 and outcome.images_per_second > 0
    return outcome


# objectives for the tests, named by `objective: "tests.test_evaluate:NAME"`
def good(arch, seed):
    return 12.5 + seed


def memory_hungry(arch, seed):
    raise MemoryError("simulated")


def raises(arch, seed):
    raise ValueError("objective failed on purpose")


def returns_nan(arch, seed):
    return float("nan")


def returns_inf(arch, seed):
    return float("-inf")


def returns_none(arch, seed):
    return None


def returns_string(arch, seed):
    return "12.5"


def returns_bool(arch, seed):
    return True


def interrupted(arch, seed):
    raise KeyboardInterrupt


# --- training objective -----------------------------------------------------------------------------

def test_training_evaluation_fills_the_result():
    outcome = assert_normal(Evaluator(train_config(), split_seed=0))
    info = complexity(TINY, tuple(SHAPE), 10)
    assert (outcome.params, outcome.depth) == (info["params"], info["depth"])
    assert outcome.error == outcome.curve[-1]["val_error"] and outcome.seconds > 0
    assert outcome.fitness == outcome.error and "cpu" in outcome.worker


def test_invalid_genome_is_never_trained_then_normal(monkeypatch):
    evaluator = Evaluator(train_config(), split_seed=0)
    calls = []
    real_train = train_module.train
    monkeypatch.setattr(train_module, "train", lambda *a, **k: calls.append(1) or real_train(*a, **k))
    bad = [dict(TINY, block="wide"), dict(TINY, group_size=3), dict(TINY, sections=[0, 0, 1, 1]),
           dict(TINY, sections=[1, 1, 1]), dict(TINY, filters=True), dict(TINY, filters=-4),
           {k: v for k, v in TINY.items() if k != "filters"}, dict(TINY, extra=1), "basic-0.1.1.1"]
    for arch in bad:
        outcome = evaluator(arch, seed=0)
        assert outcome.status == R.INVALID and outcome.message and outcome.fitness == R.WORST_ERROR
    assert calls == []
    assert_normal(evaluator)
    assert calls == [1]


def test_arch_problem_explains_and_accepts_the_clamped_group_size():
    assert arch_problem(dict(TINY, group_size=32)) is None        # clamped to filters: valid
    assert "group_size" in arch_problem(dict(TINY, filters=6, group_size=4))
    assert "block" in arch_problem(dict(TINY, block="wide"))


def test_nan_loss_is_diverged_then_normal():
    evaluator = Evaluator(train_config(lr=1e6), split_seed=0)
    outcome = evaluator(TINY, seed=0)
    assert outcome.status == R.DIVERGED and "NaN/inf" in outcome.message
    assert outcome.error is None and outcome.fitness == R.WORST_ERROR
    evaluator.config.training.lr = 0.1
    assert_normal(evaluator)


def test_out_of_memory_in_a_training_step_is_oom_memory_freed_then_normal(monkeypatch):
    evaluator = Evaluator(train_config(), split_seed=0)
    built = []
    real_build = train_module.build

    def build_failing_on_third_forward(*args, **kwargs):
        model = real_build(*args, **kwargs)
        built.append(weakref.ref(model))
        steps = iter(range(10**6))

        def forward(x):
            if next(steps) == 2:
                raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB (simulated)")
            return type(model).forward(model, x)
        model.forward = forward
        return model

    monkeypatch.setattr(train_module, "build", build_failing_on_third_forward)
    outcome = evaluator(TINY, seed=0)
    assert outcome.status == R.OOM and "out of memory" in outcome.message
    assert built[0]() is None          # the failed network (and its optimiser) were released
    monkeypatch.setattr(train_module, "build", real_build)
    assert_normal(evaluator)


@pytest.mark.gpu
def test_real_cuda_out_of_memory_is_oom_memory_freed_then_normal():
    # 24 blocks of 64 filters at 1024x1024 keep ~8 GB of activations each: far beyond any one GPU,
    # while no single tensor passes 2**31 elements (which cuDNN would refuse with another error).
    config = EvaluatorConfig(dataset=DatasetConfig(name="synthetic", shape=[3, 1024, 1024], train_size=16),
                             training=TrainingConfig(epochs=1, batch_size=16))
    evaluator = Evaluator(config, split_seed=0, device="cuda").prepare()
    resident = torch.cuda.memory_allocated()
    huge = {"block": "basic", "sections": [24, 1, 1, 1], "filters": 64, "filter_update": 2, "group_size": 64}
    outcome = evaluator(huge, seed=0)
    assert outcome.status == R.OOM and "out of memory" in outcome.message.lower(), outcome.message
    assert torch.cuda.memory_allocated() <= resident + 2**20   # the network and its activations are gone
    outcome = evaluator(TINY, seed=0)                          # the same process, the same GPU: trains
    assert outcome.status == R.OK and math.isfinite(outcome.error)


@pytest.mark.parametrize("text", ["DefaultCPUAllocator: can't allocate memory",
                                  "cuDNN error: CUDNN_STATUS_ALLOC_FAILED", "CUDA error: CUBLAS_STATUS_ALLOC_FAILED"])
def test_allocator_failures_reported_as_runtime_errors_are_oom(text):
    assert evaluate_module._failure(RuntimeError(text))["status"] == R.OOM
    assert evaluate_module._failure(RuntimeError("cuDNN error: CUDNN_STATUS_NOT_SUPPORTED"))["status"] == R.ERROR
    assert evaluate_module._failure(RuntimeError("shape mismatch"))["status"] == R.ERROR


def test_exception_in_training_is_error_with_traceback_then_normal(monkeypatch):
    evaluator = Evaluator(train_config(), split_seed=0)
    monkeypatch.setattr(train_module, "error_percent", lambda *a, **k: 1 / 0)
    outcome = evaluator(TINY, seed=0)
    assert outcome.status == R.ERROR
    assert "Traceback" in outcome.message and "ZeroDivisionError" in outcome.message
    monkeypatch.undo()
    assert_normal(evaluator)


def test_dataset_loads_once_and_the_split_is_the_same_for_every_candidate(monkeypatch):
    loads = []
    real_load = data_module.load_dataset
    monkeypatch.setattr(data_module, "load_dataset", lambda *a: loads.append(a) or real_load(*a))
    evaluator = Evaluator(train_config(), split_seed=4)
    assert loads == []                                     # lazy
    evaluator(TINY, seed=0)
    first = evaluator.dataset.val_labels.clone()
    evaluator(dict(TINY, filters=8), seed=1)
    assert len(loads) == 1 and torch.equal(evaluator.dataset.val_labels, first)
    other = Evaluator(train_config(), split_seed=4).prepare()
    assert torch.equal(other.dataset.val_images, evaluator.dataset.val_images)
    assert not torch.equal(Evaluator(train_config(), split_seed=5).prepare().dataset.val_images,
                           evaluator.dataset.val_images)


def test_missing_cifar_folder_fails_prepare_with_config_error_and_calls_with_error(tmp_path):
    config = EvaluatorConfig(dataset=DatasetConfig(name="cifar10", data_dir=str(tmp_path)))
    with pytest.raises(ConfigError, match="cifar-10-batches-py"):
        Evaluator(config, 0).prepare()
    outcome = Evaluator(config, 0)(TINY, seed=0)
    assert outcome.status == R.ERROR and "cifar-10-batches-py" in outcome.message


def test_evaluator_for_caches_one_per_process_for_equal_arguments():
    a = evaluator_for(train_config(), 0, "cpu")
    assert evaluator_for(train_config(), 0, "cpu") is a
    assert evaluator_for(train_config(), 1, "cpu") is not a
    assert evaluator_for(train_config(lr=0.05), 0, "cpu") is not a


# --- pluggable objective ----------------------------------------------------------------------------

def test_objective_value_is_the_error():
    outcome = Evaluator(objective_config("good"), 0)(TINY, seed=2)
    assert outcome.status == R.OK and outcome.error == 14.5 and outcome.params and outcome.depth == 8


@pytest.mark.parametrize("name, status, text", [
    ("memory_hungry", R.OOM, "MemoryError"),
    ("raises", R.ERROR, "objective failed on purpose"),
    ("returns_nan", R.DIVERGED, "nan"),
    ("returns_inf", R.DIVERGED, "inf"),
    ("returns_none", R.ERROR, "returned None"),
    ("returns_string", R.ERROR, "returned '12.5'"),
    ("returns_bool", R.ERROR, "returned True"),
])
def test_objective_failures_then_normal(name, status, text):
    outcome = Evaluator(objective_config(name), 0)(TINY, seed=0)
    assert outcome.status == status and text in outcome.message
    assert outcome.fitness == R.WORST_ERROR and not math.isnan(outcome.fitness)
    assert Evaluator(objective_config("good"), 0)(TINY, seed=0).status == R.OK
    assert_normal(Evaluator(train_config(), 0))


def test_flaky_builtin_objective_never_gives_a_nan_fitness():
    evaluator = Evaluator(EvaluatorConfig(objective="era_deap.training.objectives:flaky_landscape"), 0)
    statuses = set()
    for s2 in range(1, 16):
        outcome = evaluator(dict(TINY, sections=[0, s2, 1, 1]), seed=0)
        statuses.add(outcome.status)
        assert math.isfinite(outcome.fitness)
    assert statuses == {R.OK, R.ERROR, R.DIVERGED}


def test_keyboard_interrupt_propagates():
    with pytest.raises(KeyboardInterrupt):
        Evaluator(objective_config("interrupted"), 0)(TINY, seed=0)


def test_unimportable_objective_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError, match="evaluator.objective: cannot import module 'no_such_module'"):
        load_objective("no_such_module:f")
    with pytest.raises(ConfigError, match="evaluator.objective: module 'era_deap.training.objectives' has no callable"):
        Evaluator(EvaluatorConfig(objective="era_deap.training.objectives:nothing"), 0)
    assert load_objective("era_deap.training.objectives:landscape")(TINY, 0) > 0


def test_pluggable_objective_does_not_import_torch():
    code = ("import sys; from era_deap.training.evaluate import Evaluator; "
            "from era_deap.settings import EvaluatorConfig; "
            "e = Evaluator(EvaluatorConfig(objective='era_deap.training.objectives:landscape'), 0); "
            f"r = e({TINY!r}, 0); assert r.status == 'ok', r; assert 'torch' not in sys.modules; print('light')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "light", out.stderr


def test_describe_matches_the_loaded_datasets():
    for config in (DatasetConfig(name="digits"), DatasetConfig(name="synthetic", shape=[2, 9, 9], num_classes=4,
                                                                train_size=20)):
        data = data_module.load_dataset(config, 0)
        assert describe(config) == (data.input_shape, data.num_classes)
    # cifar10: pinned against a CIFAR-format folder in test_data
