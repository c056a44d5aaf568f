"""The training step (forward, loss, backward, SGD update) replayed as one CUDA graph.

A small network on a fast GPU is bound by kernel launches, not arithmetic: a ResNet-20-like step
issues ~300 kernels, each costing the host tens of microseconds in eager PyTorch while the GPU
finishes it in a few. A CUDA graph records the step once and replays it with one launch (NVIDIA and
PyTorch's "whole-network capture"). The arithmetic is the eager step's: the same kernels
on the same data in the same order, so the protocol (batch 128, SGD, the schedule) is unchanged.

What capture needs, and how the step provides it:
- the first `WARMUP_STEPS` real steps run eagerly on a side stream (cuDNN autotuning, momentum
  buffers, lazy initialisation happen there, not inside the capture);
- the learning rate is a constant inside a graph: a milestone records a new graph;
- a batch of another size (an epoch's short last batch) runs eagerly;
- each batch is copied into the graph's static input tensors before a replay;
- autocast without its weight-cast cache (see `autocast`).
If recording fails (an operation that cannot be captured), the step says so once and runs eagerly.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from torch import nn

    from .sgd import MomentumSGD

WARMUP_STEPS = 3


def train_step(model: nn.Module, optimizer: MomentumSGD, inputs: torch.Tensor, targets: torch.Tensor, lr: float,
               autocast: contextlib.AbstractContextManager) -> torch.Tensor:
    """One eager SGD step; returns the (detached) mean loss of the batch."""
    with autocast:
        loss = F.cross_entropy(model(inputs), targets)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step(lr)
    return loss.detach()


def autocast(precision: str, device: torch.device, graphed: bool) -> contextlib.AbstractContextManager:
    """The forward's autocast context. Under a graph the cache of bf16 weight copies must be off: a
    cached copy made during capture would be stale at every replay after the update."""
    if precision == "bf16":
        return torch.autocast(device.type, dtype=torch.bfloat16, cache_enabled=not graphed)
    return contextlib.nullcontext()


class GraphedStep:
    """`train_step` for one model and optimiser, replayed from a CUDA graph once warmed up."""

    def __init__(self, model: nn.Module, optimizer: MomentumSGD, autocast_context: contextlib.AbstractContextManager,
                 warmup: int = WARMUP_STEPS):
        self.model, self.optimizer, self.autocast = model, optimizer, autocast_context
        self.warmup_left = warmup
        self.side_stream = torch.cuda.Stream()
        self.recorded = None          # (lr, graph, static inputs, static targets, static loss)
        self.failed = False

    def __call__(self, inputs: torch.Tensor, targets: torch.Tensor, lr: float) -> torch.Tensor:
        if self.failed:
            return train_step(self.model, self.optimizer, inputs, targets, lr, self.autocast)
        if self.warmup_left > 0:
            self.warmup_left -= 1
            return self._on_side_stream(inputs, targets, lr)
        if self.recorded is not None and self.recorded[2].shape != inputs.shape:
            return train_step(self.model, self.optimizer, inputs, targets, lr, self.autocast)
        if self.recorded is None or self.recorded[0] != lr:
            try:
                self._record(inputs, targets, lr)
            except RuntimeError as exc:
                self.failed = True     # _record left no graph behind
                warnings.warn(f"CUDA graph capture failed, training eagerly: {exc}", RuntimeWarning, stacklevel=2)
                torch.cuda.synchronize()
                return train_step(self.model, self.optimizer, inputs, targets, lr, self.autocast)
        _, graph, static_inputs, static_targets, static_loss = self.recorded
        static_inputs.copy_(inputs)
        static_targets.copy_(targets)
        graph.replay()
        return static_loss

    def _on_side_stream(self, inputs, targets, lr):
        main = torch.cuda.current_stream()
        self.side_stream.wait_stream(main)
        with torch.cuda.stream(self.side_stream):
            loss = train_step(self.model, self.optimizer, inputs, targets, lr, self.autocast)
        main.wait_stream(self.side_stream)
        loss.record_stream(main)   # read on the main stream: not to be reused before that
        return loss

    def _record(self, inputs, targets, lr):
        """Record the step for this lr (replacing the graph of the previous lr; never replayed again)."""
        self.recorded = None
        static_inputs, static_targets = inputs.clone(), targets.clone()   # clone keeps channels_last
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph, capture_error_mode="thread_local"):
            static_loss = train_step(self.model, self.optimizer, static_inputs, static_targets, lr, self.autocast)
        self.recorded = (lr, graph, static_inputs, static_targets, static_loss)
