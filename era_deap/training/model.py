"""ResNets from genomes (docs/design.md §3), built from the block plan in `architecture.py`.

- stem: 3x3 conv (input channels -> f), BN, ReLU;
- section i (modules `s1`..`s4`) holds `sections[i]` blocks (`s2.b1`, ...) of width f * u**i; the first
  block of sections 2-4 has stride 2, also when section 1 is empty;
- basic block: two 3x3 convs; bottleneck: 1x1 -> 3x3 -> 1x1 with expansion 4 (stride on the 3x3);
- every 3x3 conv has groups = f / min(group_size, f), the same in every section;
- shortcut: identity, or 1x1 conv + BN when the stride or the channel count changes;
- head: global average pool, linear. Kaiming (fan-out) initialisation as He et al.

`replicas=S` builds S independent copies of the network as one: every convolution has S times the
channels and S times the groups (the stem and 1x1 convolutions too), BatchNorm is per channel anyway,
and the head is a grouped 1x1 convolution. Replica r reads input channels [r*C, (r+1)*C) and writes
logits [r*K, (r+1)*K): S seeds of one tiny network train in one forward/backward (seed_group.py).

Depth, parameters and multiply-adds come from `architecture.complexity` without building anything
(re-exported here); a test pins it to the built module's parameters.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

from ..space.architecture import EXPANSION, LAYERS_PER_BLOCK, BlockPlan, cardinality, complexity, depth, plan  # noqa: F401

if TYPE_CHECKING:
    from collections.abc import Sequence


class SubsampledPointwise(nn.Conv2d):
    """A 1x1 convolution with stride s, computed as "keep every s-th pixel, then a 1x1 convolution with
    stride 1": the same function and, where oneDNN is right, the same bits. oneDNN's own strided 1x1
    kernel (torch 2.14's oneDNN 3.12 on AVX2) is wrong for one group and fewer than 8 input channels in
    channels-last memory: weight gradients off by up to 100 times their size, heap corruption with one
    thread (docs/evaluator.md, "CPU convolutions"). The shortcut of a ResNet with 2 or 4 filters is one."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.stride
        return F.conv2d(x[:, :, ::s[0], ::s[1]], self.weight, self.bias, 1, 0, 1, self.groups)


def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1, replicas: int = 1) -> list[nn.Module]:
    # Only where oneDNN was found wrong: elsewhere the strided kernel is right and a little faster.
    broken = kernel == 1 and stride > 1 and replicas * groups == 1 and cin < 8
    conv = SubsampledPointwise if broken else nn.Conv2d
    return [conv(replicas * cin, replicas * cout, kernel, stride=stride, padding=kernel // 2,
                 groups=replicas * groups, bias=False),
            nn.BatchNorm2d(replicas * cout)]


class Block(nn.Module):
    """A residual block: `body(x) + shortcut(x)`, then ReLU."""

    def __init__(self, kind: str, p: BlockPlan, replicas: int = 1):
        super().__init__()
        r = replicas
        if kind == "basic":
            layers = [*_conv_bn(p.in_channels, p.width, 3, p.stride, p.groups, r), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.width, 3, 1, p.groups, r)]
        else:
            layers = [*_conv_bn(p.in_channels, p.width, 1, replicas=r), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.width, 3, p.stride, p.groups, r), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.out_channels, 1, replicas=r)]
        self.body = nn.Sequential(*layers)
        if p.stride != 1 or p.in_channels != p.out_channels:
            self.shortcut = nn.Sequential(*_conv_bn(p.in_channels, p.out_channels, 1, p.stride, replicas=r))
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, arch: dict, in_channels: int = 3, num_classes: int = 10, replicas: int = 1):
        super().__init__()
        self.arch, self.replicas = dict(arch), replicas
        blocks = plan(arch)
        self.stem = nn.Sequential(*_conv_bn(in_channels, arch["filters"], 3, replicas=replicas), nn.ReLU(inplace=True))
        for i in range(len(arch["sections"])):
            section = nn.Sequential()
            for p in blocks:
                if p.name.startswith(f"s{i + 1}."):
                    section.add_module(p.name.split(".")[1], Block(arch["block"], p, replicas))
            self.add_module(f"s{i + 1}", section)
        out_channels = blocks[-1].out_channels if blocks else arch["filters"]
        self.pool = nn.AdaptiveAvgPool2d(1)
        if replicas == 1:
            self.head = nn.Linear(out_channels, num_classes)
        else:
            self.head = nn.Conv2d(replicas * out_channels, replicas * num_classes, 1, groups=replicas)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        x = self.pool(self.s4(self.s3(self.s2(self.s1(x)))))
        if self.replicas == 1:
            return self.head(torch.flatten(x, 1))
        return torch.flatten(self.head(x), 1)


def build(arch: dict, input_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10, replicas: int = 1) -> ResNet:
    return ResNet(arch, in_channels=input_shape[0], num_classes=num_classes, replicas=replicas)


@torch.no_grad()
def load_replicas(grouped: ResNet, networks: list) -> ResNet:
    """Copy the weights and BatchNorm statistics of `networks` (plain ResNets of the same genome) into
    the replicas of `grouped`, replica r from networks[r]."""
    plain = [n.state_dict() for n in networks]
    for name, tensor in grouped.state_dict().items():
        if tensor.dim() == 0:                     # BatchNorm's step counter: the same in every replica
            tensor.copy_(plain[0][name])
            continue
        shape = (tensor.shape[0] // len(plain), *tensor.shape[1:])
        tensor.copy_(torch.cat([p[name].reshape(shape) for p in plain]))
    return grouped
