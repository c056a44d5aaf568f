"""SGD with momentum and weight decay through torch's functional API, `torch.optim.sgd.sgd`.

The arithmetic is torch.optim.SGD's, step for step (tests/test_train.py compares the two). It is a
class of its own only because constructing any `torch.optim.Optimizer` imports torch._dynamo: about
1.2 s of start-up in every `era train` and worker process, which the functional API does not pay.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch.optim.sgd import sgd

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ..settings import TrainingConfig


class MomentumSGD:
    def __init__(self, params: Iterable[torch.Tensor], *, momentum: float, weight_decay: float, nesterov: bool = False,
                 foreach: bool = True):
        self.params = [p for p in params if p.requires_grad]
        self.buffers = [None] * len(self.params)   # momentum buffers, made on the first step
        self.momentum, self.weight_decay, self.nesterov, self.foreach = momentum, weight_decay, nesterov, foreach

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self, lr: float) -> None:
        # As torch.optim.SGD: parameters without a gradient are skipped.
        used = [i for i, p in enumerate(self.params) if p.grad is not None]
        buffers = [self.buffers[i] for i in used]
        sgd([self.params[i] for i in used], [self.params[i].grad for i in used], buffers,
            foreach=self.foreach, weight_decay=self.weight_decay, momentum=self.momentum, lr=lr,
            dampening=0.0, nesterov=self.nesterov, maximize=False)
        for i, buffer in zip(used, buffers):
            self.buffers[i] = buffer


def learning_rate(training: TrainingConfig, epoch: int) -> float:
    """The lr of a 0-based epoch: `lr`, times `lr_gamma` at each milestone reached (as MultiStepLR)."""
    lr = training.lr
    for milestone in training.milestone_epochs():
        if epoch >= milestone:
            lr *= training.lr_gamma
    return lr
