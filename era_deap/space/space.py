"""The ERA search space (thesis §3.4, docs/design.md §3), declared in a YAML file.

Eight genes: `block` (categorical), the blocks per section `s1`..`s4`, `filters`, `filter_update`
and `group_size` (ordinal). A group size larger than the filter count is clamped to it, so such
configurations duplicate each other; `canonical` maps every configuration to one representative that
is itself in the space, and `key` names it with a stable string (never Python's `hash()`).
"""
from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ..config import ConfigError, read_yaml
from .architecture import BLOCKS, group_problem, is_integer, value_problem
from .genome import GENES, Individual, individual

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable, Sequence
    from types import ModuleType

# HyperMapper's local-search rule: genes with at most this many values are "small": every other value
# is a neighbour; larger ordinal genes move at most NEIGHBOUR_STEPS positions either way.
SMALL_GENE = 5
NEIGHBOUR_STEPS = 2


class InvalidGenome(ValueError):
    """A genome that is not in the space; the message names the gene, the allowed values and the value."""


@dataclass(frozen=True)
class Gene:
    name: str
    values: tuple
    categorical: bool = False

    def position(self, value: str | int) -> int:
        return self.values.index(value)


class SearchSpace:
    """Uniform sampling, validation, canonical form and key, neighbourhood, encoding, exact counts."""

    def __init__(self, values: dict, source: str = "<space>", locations: dict | None = None):
        self.source = source
        self._locations = locations or {}  # gene -> "file:line", for error messages
        missing = [g for g in GENES if g not in values]
        if missing:
            raise ConfigError(f"{source}: genes.{missing[0]}: missing (the space needs all of {', '.join(GENES)})")
        self.genes = tuple(Gene(name, tuple(values[name]), name == "block") for name in GENES)
        self._by_name = {g.name: g for g in self.genes}
        self.objectives = 1     # the length of the fitness of every individual this space makes
        self._check(source)

    def with_objectives(self, count: int) -> "SearchSpace":
        """Make individuals whose DEAP fitness holds `count` objectives (a multi-objective search)."""
        self.objectives = count
        return self

    def individual(self, genes: Iterable[str | int]) -> Individual:
        return individual(genes, self.objectives)

    # --- construction ------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> "SearchSpace":
        path = Path(path)
        data = read_yaml(path)
        unknown = [k for k in data if k != "genes"]
        if unknown:
            raise ConfigError(f"{data.where[unknown[0]]}: unknown key {unknown[0]}; a space file holds `genes:`")
        genes = data.get("genes")
        if not isinstance(genes, dict):
            raise ConfigError(f"{path}: genes: expected a mapping of the eight genes, got {genes!r}")
        values = {}
        for name, spec in genes.items():
            where = genes.where.get(name, str(path))
            if name not in GENES:
                import difflib
                close = difflib.get_close_matches(str(name), GENES, n=1, cutoff=0.5)
                hint = f"; did you mean genes.{close[0]}?" if close else f"; valid genes: {', '.join(GENES)}"
                raise ConfigError(f"{where}: unknown key genes.{name}{hint}")
            values[name] = _gene_values(name, spec, where)
        return cls(values, source=str(path), locations=dict(genes.where))

    def _check(self, source: str) -> None:
        def fail(gene, expected, given):
            where = self._locations.get(gene, source)
            raise ConfigError(f"{where}: genes.{gene}: expected {expected}, got {given!r}")

        for gene in self.genes:
            if not gene.values:
                fail(gene.name, "at least one value", list(gene.values))
            if len(set(gene.values)) != len(gene.values):
                fail(gene.name, "distinct values", list(gene.values))
        # Every value must be one that some network can have: architecture.py's rules, which the
        # evaluator applies to each architecture too.
        bad = [b for b in self["block"].values if value_problem("block", b)]
        if bad:
            fail("block", f"values among {', '.join(BLOCKS)}", bad[0])
        for name in GENES[1:]:
            for v in self[name].values:
                expected = value_problem(name, v)
                if expected:
                    fail(name, expected, v)
            if list(self[name].values) != sorted(self[name].values):
                fail(name, "values in increasing order (ordinal gene)", list(self[name].values))
        for f in self["filters"].values:
            for g in self["group_size"].values:
                expected = group_problem(f, g)
                if expected:
                    fail("group_size", expected, g)

    def __getitem__(self, name: str) -> Gene:
        return self._by_name[name]

    @property
    def names(self) -> tuple:
        return GENES

    def describe(self) -> dict:
        return {g.name: list(g.values) for g in self.genes}

    # --- sampling ----------------------------------------------------------------------------------

    def sample(self, rng: random.Random | ModuleType = random) -> Individual:
        """A configuration drawn uniformly (each gene independently uniform), as the thesis samples."""
        return self.individual(rng.choice(g.values) for g in self.genes)

    def draw(self, rng: random.Random | ModuleType = random, sampling: str = "configurations") -> Individual:
        """A canonical genome: of a uniform configuration (`configurations`, the thesis's sampling), or
        uniform over the unique networks (`networks`)."""
        return self.canonical(self.sample(rng)) if sampling == "configurations" else self.sample_unique(rng)

    def sample_unique(self, rng: random.Random | ModuleType = random) -> Individual:
        """A canonical genome drawn uniformly over the unique networks (rejection sampling)."""
        while True:
            genome = self.sample(rng)
            # Accept a configuration with probability 1/(size of its duplicate class).
            if rng.random() * self._class_size(genome) < 1.0:
                return self.canonical(genome)

    # --- validity and canonical form ---------------------------------------------------------------

    def problems(self, genome: object) -> list[str]:
        if not isinstance(genome, (list, tuple)) or len(genome) != len(GENES):
            return [f"expected a list of {len(GENES)} genes ({', '.join(GENES)}), got {genome!r}"]
        return [f"{g.name}: expected one of {list(g.values)}, got {v!r}"
                for g, v in zip(self.genes, genome) if not _member(v, g.values)]

    def is_valid(self, genome: object) -> bool:
        return not self.problems(genome)

    def check(self, genome: object) -> None:
        problems = self.problems(genome)
        if problems:
            raise InvalidGenome(f"genome not in space {self.source}: " + "; ".join(problems))

    def effective_group_size(self, genome: Sequence[str | int]) -> int:
        return min(genome[7], genome[5])

    def canonical(self, genome: Sequence[str | int]) -> Individual:
        """The representative of the genome's duplicate class: the smallest allowed group size with the
        same effective (clamped) group size. Raises InvalidGenome outside the space."""
        self.check(genome)
        filters, effective = genome[5], self.effective_group_size(genome)
        group = next(g for g in self["group_size"].values if min(g, filters) == effective)
        return self.individual([*genome[:7], group])

    def key(self, genome: Sequence[str | int]) -> str:
        """Stable, readable key of the canonical genome, e.g. `basic-0.18.18.18-f8-u2-g8`."""
        c = self.canonical(genome)
        return f"{c[0]}-{c[1]}.{c[2]}.{c[3]}.{c[4]}-f{c[5]}-u{c[6]}-g{c[7]}"

    def _class_size(self, genome) -> int:
        filters, effective = genome[5], self.effective_group_size(genome)
        return sum(1 for g in self["group_size"].values if min(g, filters) == effective)

    # --- neighbourhood and encoding -----------------------------------------------------------------

    def neighbours(self, genome: Sequence[str | int]) -> list:
        """Canonical neighbours differing in one gene (HyperMapper rule, docs/design.md §3), in gene order,
        without duplicates and without the genome itself."""
        own = self.key(genome)
        seen, result = {own}, []
        for i, gene in enumerate(self.genes):
            pos = gene.position(genome[i])
            if gene.categorical or len(gene.values) <= SMALL_GENE:
                positions = [p for p in range(len(gene.values)) if p != pos]
            else:
                positions = [p for p in range(pos - NEIGHBOUR_STEPS, pos + NEIGHBOUR_STEPS + 1)
                             if p != pos and 0 <= p < len(gene.values)]
            for p in positions:
                candidate = self.canonical([*genome[:i], gene.values[p], *genome[i + 1:]])
                key = self.key(candidate)
                if key not in seen:
                    seen.add(key)
                    result.append(candidate)
        return result

    def encode(self, genome: Sequence[str | int]) -> list[float]:
        """Numeric encoding for a GP: each gene's position scaled to [0, 1] (ordinal genes keep their
        order; `block` becomes 0/1). Canonicalised first so duplicates share a point."""
        c = self.canonical(genome)
        return [g.position(v) / (len(g.values) - 1) if len(g.values) > 1 else 0.0
                for g, v in zip(self.genes, c)]

    def unique_genomes(self) -> list:
        """Every distinct network once, as its canonical genome, in product order of the gene values."""
        return [self.individual(c) for c in itertools.product(*(g.values for g in self.genes))
                if self.canonical(list(c)) == list(c)]

    # --- counts -------------------------------------------------------------------------------------

    @property
    def n_configurations(self) -> int:
        return math.prod(len(g.values) for g in self.genes)

    @property
    def n_unique(self) -> int:
        """Exact number of distinct networks: only (filters, group_size) pairs collapse."""
        pairs = {(f, min(g, f)) for f in self["filters"].values for g in self["group_size"].values}
        others = math.prod(len(g.values) for g in self.genes if g.name not in ("filters", "group_size"))
        return len(pairs) * others


def _member(value, values) -> bool:
    # 8 == 8.0 and True == 1 in Python; a genome must hold the exact type.
    return any(value == v and type(value) is type(v) for v in values)


def _gene_values(name: str, spec, where: str) -> list:
    if isinstance(spec, list):
        return spec
    if isinstance(spec, dict) and set(spec) == {"min", "max"}:
        lo, hi = spec["min"], spec["max"]
        if not all(is_integer(v) for v in (lo, hi)) or lo > hi:
            raise ConfigError(f"{where}: genes.{name}: expected integers min <= max, got {dict(spec)!r}")
        return list(range(lo, hi + 1))
    raise ConfigError(f"{where}: genes.{name}: expected a list of values or {{min: a, max: b}}, got {spec!r}")


def load_space(path: str | os.PathLike | None = None) -> SearchSpace:
    """The space in `path`, or the default space when `path` is None."""
    return default_space() if path is None else SearchSpace.from_file(path)


# The default space (docs/design.md §3), the same as configs/space.yaml (a test keeps the two equal); it is
# built in so that an installed package needs no file to know it.
DEFAULT_GENES = {
    "block": ["basic", "bottleneck"],
    "s1": list(range(0, 19)),
    "s2": list(range(1, 19)),
    "s3": list(range(1, 19)),
    "s4": list(range(1, 19)),
    "filters": [2, 4, 8, 16, 32, 64],
    "filter_update": [1, 2],
    "group_size": [1, 2, 4, 8, 32],
}


def default_space() -> SearchSpace:
    return SearchSpace(DEFAULT_GENES, source="<default space, configs/space.yaml>")
