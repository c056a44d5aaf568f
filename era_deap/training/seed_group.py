"""Training several seeds of one network at once: seeds as groups of one grouped network.

A tiny network on 8x8 digits is bound by per-step overhead, not arithmetic. `train_seeds` builds the
network once per seed exactly as `train.train` does (same `torch.manual_seed`, same data generator),
copies the S networks into the replicas of one network with S times the channels and groups
(`model.build(..., replicas=S)`), and trains them in one forward/backward: each replica sees its own
seed's epoch order, crops and flips (stacked along the channels), its loss is its own batch mean,
and the summed loss gives each replica exactly its own gradient. SGD, momentum and weight decay are
per element. So replica r is the network `train(arch, ..., seed=seeds[r])` would train, up to the
order of floating-point sums inside the grouped kernels (tests/test_seed_group.py).

A replica whose loss becomes NaN/inf is marked diverged at that (epoch, step) and its weights are
zeroed, so its NaNs never reach another replica's arithmetic; the others train on.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from .augment import BatchAugmenter, Normalizer
from .cuda_graph import autocast as autocast_for
from .data import Dataset
from .model import build, load_replicas
from .sgd import MomentumSGD, learning_rate
from .train import (
    CPU_EVAL_BATCH,
    CUDA_EVAL_BATCH,
    Diverged,
    TrainRecord,
    _keep_freed_memory,
    _parts,
    resolve_device,
    resolve_precision,
)

if TYPE_CHECKING:
    import contextlib
    from collections.abc import Sequence

    from ..settings import TrainingConfig


def train_seeds(arch: dict, dataset: Dataset, training: TrainingConfig, device: str | torch.device | None = None,
                seeds: Sequence[int] = (0,)) -> list:
    """Train `arch` once per seed, all at once; per seed a `TrainRecord`, or the `Diverged` it hit.

    Each record's `seconds` is the whole group's wall time divided by the number of seeds (the cost of
    one seed here), and its curve's `seconds` the group's time since the start."""
    device = dataset.device if device is None else resolve_device(device)
    started = time.perf_counter()
    replicas = len(seeds)
    images, labels, eval_images, eval_labels, kind = _parts(dataset, training.use_validation_data)
    precision = resolve_precision(training.precision, device)
    autocast = autocast_for(precision, device, graphed=False)
    if device.type == "cpu":
        _keep_freed_memory()
    memory_format = torch.channels_last if training.channels_last else torch.contiguous_format

    networks, generators = [], []
    for seed in seeds:   # as train.train: weights from the global generator, data from its own
        torch.manual_seed(seed)
        generators.append(torch.Generator(device).manual_seed(seed))
        networks.append(build(arch, dataset.input_shape, dataset.num_classes))
    model = build(arch, dataset.input_shape, dataset.num_classes, replicas=replicas)
    model = load_replicas(model, networks).to(device, memory_format=memory_format)
    params = sum(p.numel() for p in networks[0].parameters())
    del networks
    optimizer = MomentumSGD(model.parameters(), momentum=training.momentum,
                            weight_decay=training.weight_decay, nesterov=training.nesterov)
    normalizer = Normalizer(dataset.mean.to(device), dataset.std.to(device), training.channels_last)
    augment = BatchAugmenter(images, dataset.crop_padding, dataset.flip, normalizer)
    classes = dataset.num_classes

    n, batch = len(labels), training.batch_size
    starts = [s for s in range(0, n, batch) if n - s > 1 or s == 0]   # as train.train
    per_epoch = sum(min(batch, n - s) for s in starts)
    eval_batch = training.eval_batch_size or (CUDA_EVAL_BATCH if device.type == "cuda" else CPU_EVAL_BATCH)
    error_key = "test_error" if kind == "test" else "val_error"
    diverged: dict[int, Diverged] = {}
    curves = [[] for _ in seeds]
    train_seconds = 0.0
    for epoch in range(training.epochs):
        lr = learning_rate(training, epoch)
        epoch_started = time.perf_counter()
        model.train()
        orders = [torch.randperm(n, generator=g, device=device) for g in generators]
        loss_sums = torch.zeros(replicas, device=device, dtype=torch.float64)
        for step, start in enumerate(starts, 1):
            index = [order[start:start + batch] for order in orders]
            inputs = torch.cat([augment(i, g) for i, g in zip(index, generators)], dim=1)
            targets = torch.stack([labels[i] for i in index], dim=1)               # [B, S]
            with autocast:
                logits = model(inputs.contiguous(memory_format=memory_format))     # [B, S*K]
                losses = F.cross_entropy(logits.view(len(targets), replicas, classes).transpose(1, 2),
                                         targets, reduction="none").mean(0)         # [S]: each replica's mean
            optimizer.zero_grad()
            losses.sum().backward()
            optimizer.step(lr)
            losses = losses.detach()
            loss_sums += losses * len(targets)
            finite = torch.isfinite(losses).tolist()
            for r in [r for r in range(replicas) if not finite[r] and r not in diverged]:
                diverged[r] = Diverged(epoch + 1, step, len(starts))
                _silence(model, optimizer, r, replicas)
            if len(diverged) == replicas:
                return [diverged[r] for r in range(replicas)]
        train_seconds += time.perf_counter() - epoch_started
        errors = error_percents(model, eval_images, eval_labels, normalizer, eval_batch, autocast, replicas, classes)
        for r in range(replicas):
            if r not in diverged:
                curves[r].append({"epoch": epoch + 1, "train_loss": loss_sums[r].item() / per_epoch,
                                  error_key: errors[r], "lr": lr, "seconds": time.perf_counter() - started})
    seconds = (time.perf_counter() - started) / replicas
    speed = replicas * training.epochs * per_epoch / max(train_seconds, 1e-9)
    return [diverged[r] if r in diverged else
            TrainRecord(error=curves[r][-1][error_key], error_kind=kind, params=params, epochs=training.epochs,
                        train_images=n, seconds=seconds, images_per_second=speed / replicas,
                        precision=precision, curve=curves[r])
            for r in range(replicas)]


@torch.inference_mode()
def error_percents(model: torch.nn.Module, images: torch.Tensor, labels: torch.Tensor, normalizer: Normalizer,
                   batch_size: int, autocast: contextlib.AbstractContextManager, replicas: int,
                   classes: int) -> list[float]:
    """Top-1 error in percent of every replica on the same images."""
    model.eval()
    wrong = torch.zeros(replicas, dtype=torch.int64, device=labels.device)
    for start in range(0, len(labels), batch_size):
        x = normalizer.nchw(images[start:start + batch_size])
        with autocast:
            logits = model(x.repeat(1, replicas, 1, 1))
        predicted = logits.view(len(x), replicas, classes).argmax(2)                  # [B, S]
        wrong += (predicted != labels[start:start + batch_size, None]).sum(0)
    return [100.0 * w / len(labels) for w in wrong.tolist()]


@torch.no_grad()
def _silence(model, optimizer, replica: int, replicas: int) -> None:
    """Zero replica `replica`'s weights, BatchNorm statistics and momentum: finite from now on."""
    tensors = list(model.parameters()) + list(model.buffers()) + [b for b in optimizer.buffers if b is not None]
    for tensor in tensors:
        if tensor.dim() == 0:
            continue
        size = tensor.shape[0] // replicas
        tensor[replica * size:(replica + 1) * size] = 0
