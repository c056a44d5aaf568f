"""Architecture arithmetic without tensors: the block plan of a genome, its depth, parameters and
multiply-adds (as pycls counts them). `model.py` builds the network from the same plan; a test pins the
two together. Importing this module does not import torch, so the driver and `era arch` stay light."""
from __future__ import annotations

from dataclasses import dataclass

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
