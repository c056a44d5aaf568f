"""ResNets from genomes (DESIGN §3), and their depth, parameters and multiply-adds without tensors.

- stem: 3x3 conv (input channels -> f), BN, ReLU;
- section i (modules `s1`..`s4`) holds `sections[i]` blocks (`s2.b1`, ...) of width f * u**i; the first
  block of sections 2-4 has stride 2, also when section 1 is empty;
- basic block: two 3x3 convs; bottleneck: 1x1 -> 3x3 -> 1x1 with expansion 4 (stride on the 3x3);
- every 3x3 conv has groups = f / min(group_size, f), the same in every section;
- shortcut: identity, or 1x1 conv + BN when the stride or the channel count changes;
- head: global average pool, linear. Kaiming (fan-out) initialisation as He et al.

`complexity(arch, ...)` walks the same plan as the builder and counts parameters and multiply-adds
analytically (as pycls does); a test pins it to the built module's parameters.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

EXPANSION = {"basic": 1, "bottleneck": 4}
LAYERS_PER_BLOCK = {"basic": 2, "bottleneck": 3}


@dataclass(frozen=True)
class BlockPlan:
    name: str          # e.g. "s2.b1"
    in_channels: int
    width: int         # channels inside the block
    out_channels: int  # width * expansion
    stride: int
    groups: int


def cardinality(arch: dict) -> int:
    return arch["filters"] // min(arch["group_size"], arch["filters"])


def plan(arch: dict) -> list[BlockPlan]:
    """The blocks of the network in order; the single source of truth for builder and counters."""
    block, filters, update = arch["block"], arch["filters"], arch["filter_update"]
    groups, expansion = cardinality(arch), EXPANSION[block]
    blocks, channels = [], filters
    for i, count in enumerate(arch["sections"]):
        width = filters * update ** i
        for b in range(count):
            stride = 2 if (b == 0 and i > 0) else 1
            blocks.append(BlockPlan(f"s{i + 1}.b{b + 1}", channels, width, width * expansion, stride, groups))
            channels = width * expansion
        if count == 0 and i > 0:
            raise ValueError(f"section s{i + 1} is empty; only s1 may be")
    return blocks


def depth(arch: dict) -> int:
    """Weighted layers: stem + head + 2 or 3 per block (thesis §3.4)."""
    return 2 + LAYERS_PER_BLOCK[arch["block"]] * sum(arch["sections"])


# --- builder ----------------------------------------------------------------------------------------

def _conv_bn(cin: int, cout: int, kernel: int, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups, bias=False),
            nn.BatchNorm2d(cout)]


class Block(nn.Module):
    """A residual block: `body(x) + shortcut(x)`, then ReLU."""

    def __init__(self, kind: str, p: BlockPlan):
        super().__init__()
        if kind == "basic":
            layers = [*_conv_bn(p.in_channels, p.width, 3, p.stride, p.groups), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.width, 3, 1, p.groups)]
        else:
            layers = [*_conv_bn(p.in_channels, p.width, 1), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.width, 3, p.stride, p.groups), nn.ReLU(inplace=True),
                      *_conv_bn(p.width, p.out_channels, 1)]
        self.body = nn.Sequential(*layers)
        if p.stride != 1 or p.in_channels != p.out_channels:
            self.shortcut = nn.Sequential(*_conv_bn(p.in_channels, p.out_channels, 1, p.stride))
        else:
            self.shortcut = nn.Identity()
        self.relu = nn.ReLU(inplace=True)

    def forward(self, x):
        return self.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, arch: dict, in_channels: int = 3, num_classes: int = 10):
        super().__init__()
        self.arch = dict(arch)
        blocks = plan(arch)
        self.stem = nn.Sequential(*_conv_bn(in_channels, arch["filters"], 3), nn.ReLU(inplace=True))
        for i in range(len(arch["sections"])):
            section = nn.Sequential()
            for p in blocks:
                if p.name.startswith(f"s{i + 1}."):
                    section.add_module(p.name.split(".")[1], Block(arch["block"], p))
            self.add_module(f"s{i + 1}", section)
        out_channels = blocks[-1].out_channels if blocks else arch["filters"]
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(out_channels, num_classes)
        self._init_weights()

    def _init_weights(self):
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.stem(x)
        x = self.s4(self.s3(self.s2(self.s1(x))))
        return self.head(torch.flatten(self.pool(x), 1))


def build(arch: dict, input_shape=(3, 32, 32), num_classes: int = 10) -> ResNet:
    return ResNet(arch, in_channels=input_shape[0], num_classes=num_classes)


# --- analytic complexity ----------------------------------------------------------------------------

def _conv(cin, cout, k, groups, hw):
    """(params, multiply-adds) of a bias-free conv followed by BN, at output size hw."""
    weights = cin // groups * cout * k * k
    return weights + 2 * cout, weights * hw[0] * hw[1]


def _down(hw, stride):
    return hw if stride == 1 else ((hw[0] + 1) // 2, (hw[1] + 1) // 2)


def complexity(arch: dict, input_shape=(3, 32, 32), num_classes: int = 10) -> dict:
    """Depth, trainable parameters and multiply-adds per image, without building tensors."""
    cin, hw = input_shape[0], tuple(input_shape[1:])
    params, macs = _conv(cin, arch["filters"], 3, 1, hw)
    channels = arch["filters"]
    for p in plan(arch):
        out_hw = _down(hw, p.stride)
        if arch["block"] == "basic":
            convs = [(p.in_channels, p.width, 3, p.groups, out_hw), (p.width, p.width, 3, p.groups, out_hw)]
        else:
            convs = [(p.in_channels, p.width, 1, 1, hw), (p.width, p.width, 3, p.groups, out_hw),
                     (p.width, p.out_channels, 1, 1, out_hw)]
        if p.stride != 1 or p.in_channels != p.out_channels:
            convs.append((p.in_channels, p.out_channels, 1, 1, out_hw))
        for args in convs:
            dp, dm = _conv(*args)
            params, macs = params + dp, macs + dm
        hw, channels = out_hw, p.out_channels
    params += channels * num_classes + num_classes
    macs += channels * num_classes
    return {"depth": depth(arch), "params": params, "macs": macs}
