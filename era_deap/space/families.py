"""He et al.'s CIFAR ResNets as genomes of this space, for the rank-correlation families (thesis §4.2).

He et al. (2016) describe a CIFAR ResNet by its depth 6n+2 (three sections of n basic blocks) and the
width of its first section (16 in the paper). In genome terms (docs/design.md §3) that is

    block basic, sections [0, n, n, n], filter_update 2, filters = width / 2, cardinality 1

because section 1 is empty and section i has f * 2**i channels: the first *used* section (i = 1) has
2f. So ResNet-110 (width 16) is basic-0.18.18.18-f8-u2, 1.7M parameters (thesis table 1).

A network is *in the search space* when some genome of the space builds it: the sections and filters
must be allowed values and some allowed group size must be >= filters (cardinality 1). That is asked
of the SearchSpace, never hard-coded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .space import SearchSpace


@dataclass(frozen=True)
class Network:
    depth: int           # He et al.'s depth, 6n + 2
    width: int           # He et al.'s width: channels of the first section that holds blocks

    @property
    def blocks(self) -> int:
        return (self.depth - 2) // 6

    @property
    def filters(self) -> int:
        return self.width // 2

    @property
    def name(self) -> str:
        return f"ResNet-{self.depth} w{self.width}"

    @property
    def slug(self) -> str:
        """File-name form, e.g. resnet56-w16."""
        return f"resnet{self.depth}-w{self.width}"

    def arch(self) -> dict:
        n, f = self.blocks, self.filters
        # group size = filters: one group (cardinality 1) whatever the space's group sizes are.
        return {"block": "basic", "sections": [0, n, n, n], "filters": f, "filter_update": 2, "group_size": f}


def _genome(network: Network, space) -> list:
    """The network's genome with the smallest group size of `space` that keeps cardinality 1."""
    arch = network.arch()
    groups = [g for g in space["group_size"].values if g >= network.filters]
    return [arch["block"], *arch["sections"], arch["filters"], arch["filter_update"],
            groups[0] if groups else arch["group_size"]]


def space_problems(network: Network, space: SearchSpace) -> list[str]:
    """Why no genome of `space` builds `network`, one short phrase per gene (empty when one does)."""
    genome = _genome(network, space)
    problems = []
    for gene, value in zip(space.genes[:-1], genome[:-1]):
        if value not in gene.values:
            values = list(gene.values)
            allowed = f"{values[0]}..{values[-1]}" if len(values) > 8 else ", ".join(map(str, values))
            problems.append(f"{gene.name} {value} not in {allowed}")
    if not any(g >= network.filters for g in space["group_size"].values):
        problems.append(f"no group size >= {network.filters} (cardinality 1)")
    return problems


def genome_key(network: Network, space: SearchSpace) -> str | None:
    """The network's canonical key in `space`, or None outside it."""
    return None if space_problems(network, space) else space.key(_genome(network, space))
