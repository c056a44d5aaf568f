"""Architecture arithmetic without tensors: which genomes can be built at all (the rules every space
and the evaluator apply), the block plan of a genome, its depth, parameters and multiply-adds (as pycls
counts them). `model.py` builds the network from the same plan; a test pins the two together.
Importing this module does not import torch, so the driver and `era arch` stay light."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .genome import GENES, SECTION_GENES, from_arch

if TYPE_CHECKING:
    from collections.abc import Sequence

EXPANSION = {"basic": 1, "bottleneck": 4}
LAYERS_PER_BLOCK = {"basic": 2, "bottleneck": 3}
BLOCKS = tuple(EXPANSION)
ARCH_KEYS = ("block", "sections", "filters", "filter_update", "group_size")
# The least value of each ordinal gene. Only the first section may be empty: an empty later section
# would leave filter_update and the section's stride nothing to act on (thesis §3.4).
LEAST = {"s1": 0, "s2": 1, "s3": 1, "s4": 1, "filters": 1, "filter_update": 1, "group_size": 1}


# --- what can be built ------------------------------------------------------------------------------

def is_integer(value: object) -> bool:
    """An int, not a bool (True == 1 in Python, but a gene must hold a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def value_problem(gene: str, value: object) -> str | None:
    """What `gene` expects, when `value` is no value of it in any network; None when it may be.
    Used on every value of a space file (space.py) and on each architecture evaluated (arch_problem)."""
    if gene == "block":
        return None if value in BLOCKS else f"one of {', '.join(BLOCKS)}"
    least = LEAST[gene]
    if is_integer(value) and value >= least:
        return None
    return f"an integer >= {least}" + (" (only the first section may be empty)" if gene in SECTION_GENES[1:] else "")


def group_problem(filters: int, group_size: int) -> str | None:
    """What group_size expects with these filters, or None: its size, clamped to filters, divides them."""
    if filters % min(group_size, filters):
        return f"a group size dividing filters ({filters})"
    return None


def arch_problem(arch: object) -> str | None:
    """Why `arch` (a dict as genome.to_arch makes it) cannot be built, or None. Structure only: whether
    it is in a run's space is the space's question (SearchSpace.problems)."""
    if not isinstance(arch, dict) or set(arch) != set(ARCH_KEYS):
        return f"expected a dict with keys {', '.join(ARCH_KEYS)}, got {arch!r}"
    sections = arch["sections"]
    if not isinstance(sections, (list, tuple)) or len(sections) != len(SECTION_GENES):
        return f"sections: expected {len(SECTION_GENES)} block counts, got {sections!r}"
    for gene, value in zip(GENES, from_arch(arch)):
        expected = value_problem(gene, value)
        if expected:
            return f"{gene}: expected {expected}, got {value!r}"
    expected = group_problem(arch["filters"], arch["group_size"])
    return expected and f"group_size: expected {expected}, got {arch['group_size']}"


# --- the network ------------------------------------------------------------------------------------

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


def complexity(arch: dict, input_shape: Sequence[int] = (3, 32, 32), num_classes: int = 10) -> dict:
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
