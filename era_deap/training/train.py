"""The training engine: one architecture, one schedule, data already on the device (thesis A.3).

SGD with momentum and weight decay, cross entropy, batch 128, lr multiplied by `lr_gamma` at the
milestone epochs. Per step there is no host synchronisation: the loss is summed on the device, read
once per epoch, and checked for NaN/inf every `FINITE_CHECK_STEPS` steps (asynchronously on CUDA), so
a diverging run stops within the epoch. On CUDA the step is replayed as a CUDA graph (cuda_graph.py).
Every epoch the network is evaluated in no-grad batches and the learning curve records it. On CPU a
given seed gives the same curve every time.
"""
from __future__ import annotations

import contextlib
import ctypes
import math
import time
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from ..settings import TrainingConfig
from .augment import BatchAugmenter, Normalizer
from .cuda_graph import GraphedStep, train_step
from .cuda_graph import autocast as autocast_for
from .data import Dataset
from .model import build
from .sgd import MomentumSGD, learning_rate

FINITE_CHECK_STEPS = 8   # how often (in steps) the running loss is checked for NaN/inf
# Default validation batch: large on a GPU; on CPU one that stays in cache (1280 digits- or CIFAR-sized
# images validate ~25% faster in batches of 256 than in one batch on 2 cores).
CUDA_EVAL_BATCH, CPU_EVAL_BATCH = 1024, 256


class Diverged(RuntimeError):
    """The training loss became NaN or infinite; training stopped at (epoch, step), both 1-based."""

    def __init__(self, epoch: int, step: int, steps_per_epoch: int):
        super().__init__(f"training loss became NaN/inf in epoch {epoch} (stopped after step {step} "
                         f"of {steps_per_epoch})")
        self.epoch, self.step, self.steps_per_epoch = epoch, step, steps_per_epoch


@dataclass
class TrainRecord:
    error: float                 # final error in percent on `error_kind` data
    error_kind: str              # "validation" or "test"
    params: int
    epochs: int
    train_images: int            # training images per epoch
    seconds: float               # wall time of the whole training, evaluations included
    images_per_second: float     # training images per second of training steps (evaluation excluded)
    precision: str               # "fp32" or "bf16" (autocast), as resolved from the config's precision
    curve: list = field(default_factory=list)  # per epoch: epoch, train_loss, val_error|test_error, lr, seconds


def resolve_device(spec: str | torch.device | None) -> torch.device:
    """"auto" (or None) -> cuda when available, else cpu; anything else as given."""
    if spec in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(spec)


def train(arch: dict, dataset: Dataset, training: TrainingConfig, device: str | torch.device | None = None,
          seed: int = 0, progress: bool = False, stop_after: int | None = None) -> TrainRecord:
    """Train `arch` from scratch on `dataset` with `training`; raise `Diverged` on NaN/inf loss.
    `stop_after`: stop after that many epochs of the schedule (its lr drops where the full one has them).

    With `training.use_validation_data`, the network trains on train + validation and the error is
    measured on the test part; a dataset without one trains on train and reports validation error."""
    device = dataset.device if device is None else resolve_device(device)
    started = time.perf_counter()
    images, labels, eval_images, eval_labels, kind = _parts(dataset, training.use_validation_data)
    precision = resolve_precision(training.precision, device)
    graphed = device.type == "cuda" and training.cuda_graph
    autocast = autocast_for(precision, device, graphed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True   # fixed shapes: let cuDNN pick the fastest kernels
    else:
        _keep_freed_memory()
    memory_format = torch.channels_last if training.channels_last else torch.contiguous_format

    torch.manual_seed(seed)                  # weight initialisation
    generator = torch.Generator(device).manual_seed(seed)   # epoch order, crops, flips
    model = build(arch, dataset.input_shape, dataset.num_classes).to(device, memory_format=memory_format)
    optimizer = MomentumSGD(model.parameters(), momentum=training.momentum,
                            weight_decay=training.weight_decay, nesterov=training.nesterov)
    normalizer = Normalizer(dataset.mean.to(device), dataset.std.to(device), training.channels_last)
    augment = BatchAugmenter(images, dataset.crop_padding, dataset.flip, normalizer)
    if graphed:
        step_on = GraphedStep(model, optimizer, autocast)
    else:
        def step_on(inputs, targets, lr):
            return train_step(model, optimizer, inputs, targets, lr, autocast)

    n, batch = len(labels), training.batch_size
    # A last batch of one sample would break BatchNorm at 1x1 resolution; the loop drops it.
    starts = [s for s in range(0, n, batch) if n - s > 1 or s == 0]
    per_epoch = sum(min(batch, n - s) for s in starts)
    finite = _FiniteCheck(device)
    eval_batch = training.eval_batch_size or (CUDA_EVAL_BATCH if device.type == "cuda" else CPU_EVAL_BATCH)
    error_key = "test_error" if kind == "test" else "val_error"
    curve, train_seconds = [], 0.0
    last = training.epochs if stop_after is None else min(stop_after, training.epochs)
    epochs = tqdm(range(last), desc="training", unit="epoch", disable=not progress)
    for epoch in epochs:
        lr = learning_rate(training, epoch)
        epoch_started = time.perf_counter()
        model.train()
        order = torch.randperm(n, generator=generator, device=device)
        loss_sum = torch.zeros((), device=device)
        steps = tqdm(starts, desc=f"epoch {epoch + 1}", unit="batch", leave=False, disable=not progress)
        for step, start in enumerate(steps, 1):
            index = order[start:start + batch]
            loss = step_on(augment(index, generator), labels[index], lr)
            loss_sum.add_(loss, alpha=len(index))
            if step % FINITE_CHECK_STEPS == 0 and finite.bad(loss_sum):
                raise Diverged(epoch + 1, step, len(starts))
        train_loss = loss_sum.item() / per_epoch    # the one synchronisation per epoch
        if not math.isfinite(train_loss):
            raise Diverged(epoch + 1, len(starts), len(starts))
        train_seconds += time.perf_counter() - epoch_started
        error = error_percent(model, eval_images, eval_labels, normalizer, eval_batch, autocast)
        curve.append({"epoch": epoch + 1, "train_loss": train_loss, error_key: error, "lr": lr,
                      "seconds": time.perf_counter() - started})
        epochs.set_postfix({"loss": f"{train_loss:.3f}", error_key: f"{error:.2f}%"})
    seconds = time.perf_counter() - started
    return TrainRecord(error=curve[-1][error_key], error_kind=kind,
                       params=sum(p.numel() for p in model.parameters()), epochs=last,
                       train_images=n, seconds=seconds,
                       images_per_second=last * per_epoch / max(train_seconds, 1e-9), precision=precision,
                       curve=curve)


@torch.inference_mode()
def error_percent(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, normalizer: Normalizer,
                  batch_size: int, autocast: contextlib.AbstractContextManager = contextlib.nullcontext()) -> float:
    """Top-1 error in percent, in large batches; the count stays on the device until the end."""
    model.eval()
    wrong = torch.zeros((), dtype=torch.int64, device=labels.device)
    for start in range(0, len(labels), batch_size):
        with autocast:
            logits = model(normalizer.nchw(images[start:start + batch_size]))
        wrong += (logits.argmax(1) != labels[start:start + batch_size]).sum()
    return 100.0 * wrong.item() / len(labels)


def _parts(dataset: Dataset, use_validation_data: bool):
    """(train images, labels, evaluation images, labels, "validation" | "test")."""
    if use_validation_data and dataset.has_test:
        return (torch.cat([dataset.train_images, dataset.val_images]),
                torch.cat([dataset.train_labels, dataset.val_labels]),
                dataset.test_images, dataset.test_labels, "test")
    return dataset.train_images, dataset.train_labels, dataset.val_images, dataset.val_labels, "validation"


def resolve_precision(precision: str, device: torch.device) -> str:
    """"auto": bf16 on a GPU with native bf16 (Ampere and later), else fp32. fp32 on CPU: even with
    AVX512-BF16, bf16 autocast wins there only for larger images (CIFAR-sized 1.2-1.5x, 8x8 digits slower)."""
    if precision != "auto":
        return precision
    native = device.type == "cuda" and torch.cuda.get_device_capability(device) >= (8, 0)
    return "bf16" if native else "fp32"


_MALLOC_TUNED = False


def _keep_freed_memory() -> None:
    """CPU: glibc hands large freed blocks (activations) back to the OS and every step faults them in
    again (~1,500 page faults per ResNet-20 step, ~4% of the time). Keep them in the heap, as jemalloc
    or tcmalloc would. Once per process; a no-op where glibc's mallopt is absent."""
    global _MALLOC_TUNED
    if _MALLOC_TUNED:
        return
    _MALLOC_TUNED = True
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(_M_MMAP_THRESHOLD, 1 << 30)
        libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    except (OSError, AttributeError):
        pass


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc malloc.h


class _FiniteCheck:
    """Is the running loss sum still finite? On CUDA without stalling the GPU: the value is copied to
    pinned memory asynchronously and inspected at a later check, once the copy has landed."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == "cuda"
        self.host = torch.zeros((), pin_memory=self.cuda)
        self.event = None

    def bad(self, loss_sum) -> bool:
        if not self.cuda:
            return not math.isfinite(loss_sum.item())
        seen_bad = False
        if self.event is not None:
            if not self.event.query():
                return False
            seen_bad = not math.isfinite(self.host.item())
        self.host.copy_(loss_sum, non_blocking=True)
        self.event = torch.cuda.Event()
        self.event.record(torch.cuda.current_stream(loss_sum.device))
        return seen_bad
