"""CPU training must never corrupt memory or compute wrong gradients, whatever the thread count and
memory format (docs/evaluator.md, "CPU convolutions"). oneDNN's strided 1x1 convolution with fewer
than 8 input channels (AVX2, torch 2.14) corrupted the heap with one thread and returned wrong weight
gradients with two; the model routes those convolutions around it. Each check runs in a subprocess:
a heap corruption aborts the interpreter, and then fails the test instead of killing pytest."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

# The two networks, and more with 2-4 filters: every stride-2 shortcut there has < 8 channels.
SMALL_CHANNEL_NETWORKS = [
    ["basic", 2, 1, 3, 2, 4, 1, 4],
    ["basic", 1, 1, 1, 1, 2, 1, 1],
    ["basic", 0, 1, 1, 1, 2, 2, 2],
    ["bottleneck", 1, 1, 1, 1, 2, 1, 1],
    ["bottleneck", 0, 2, 1, 1, 4, 2, 4],
]


def run_python(code: str, threads: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), MALLOC_CHECK_="3")
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=300)


def outcome(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}; stdout {result.stdout[-500:]!r}; stderr {result.stderr[-1500:]!r}"


@pytest.mark.parametrize("channels_last", [True, False])
def test_small_channel_networks_train_on_one_thread_without_corrupting_memory(channels_last):
    result = run_python(f"""
        import torch
        from era_deap.settings import DatasetConfig, TrainingConfig
        from era_deap.space import to_arch
        from era_deap.training.data import load_dataset
        from era_deap.training.train import train
        torch.set_num_threads(1)
        data = load_dataset(DatasetConfig(name="digits", train_size=512), 0, "cpu")
        config = TrainingConfig(epochs=1, batch_size=128, channels_last={channels_last})
        for genome in {SMALL_CHANNEL_NETWORKS!r}:
            for seed in range(3):
                train(to_arch(genome), data, config, device="cpu", seed=seed)
        print("trained", flush=True)
    """, threads=1)
    assert result.returncode == 0 and "trained" in result.stdout, outcome(result)


@pytest.mark.parametrize("threads", [1, 2])
def test_every_convolution_of_small_channel_networks_has_float64_gradients(threads):
    """Each convolution of a training step (float32, oneDNN, channels-last, as the engine trains), on
    the inputs and output gradients it met there, against the same module in float64 with oneDNN off:
    input and weight gradients equal up to float32 rounding. Layer by layer, so that float32's own
    rounding, which a whole network amplifies at its ReLUs, does not hide or fake a kernel's error."""
    result = run_python(f"""
        import copy, torch, warnings
        from era_deap.space import to_arch
        from era_deap.training.model import build
        warnings.filterwarnings("ignore")
        torch.set_num_threads({threads})
        met = []
        def keep(module, inputs, output):
            output.register_hook(lambda grad: met.append((module, inputs[0].detach(), grad.detach())))
        worst, where = 0.0, None
        for genome in {SMALL_CHANNEL_NETWORKS!r}:
            for size in (8, 16):
                torch.manual_seed(0)
                model = build(to_arch(genome), (1, size, size)).to(memory_format=torch.channels_last)
                convolutions = {{m: n for n, m in model.named_modules() if isinstance(m, torch.nn.Conv2d)}}
                hooks = [module.register_forward_hook(keep) for module in convolutions]
                images = torch.randn(32, 1, size, size).to(memory_format=torch.channels_last)
                labels = torch.randint(0, 10, (32,))
                met.clear()
                torch.nn.functional.cross_entropy(model(images), labels).backward()
                for hook in hooks:
                    hook.remove()
                for module, x, grad in met:
                    x = x.clone().requires_grad_()
                    got = torch.autograd.grad(module(x), (x, module.weight), grad)
                    reference = copy.deepcopy(module).double()
                    x64 = x.detach().double().requires_grad_()
                    with torch.backends.mkldnn.flags(enabled=False):
                        want = torch.autograd.grad(reference(x64), (x64, reference.weight), grad.double())
                    for part, a, b in zip(("input", "weight"), got, want):
                        error = ((a.double() - b).abs().max() / b.abs().max().clamp_min(1e-12)).item()
                        if error > worst:
                            worst, where = error, f"{{genome}} {{size}}x{{size}} {{convolutions[module]}} {{part}}"
        print(f"worst relative error {{worst:.1e}}: {{where}}", flush=True)
        assert worst < 1e-3
    """, threads=threads)
    assert result.returncode == 0, outcome(result)
