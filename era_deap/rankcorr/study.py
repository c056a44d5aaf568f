"""`era rankcorr CONFIG [--out DIR]`: how well a short training ranks networks like a long one (thesis §4.2).

Two families of He et al.'s CIFAR ResNets (era_deap.space.families) -- the width family (ResNet-56 at
several widths) and the depth family (several depths at one width) -- are each trained at every
fidelity (5, 10, 20, 50, 100 epochs in the thesis). Each fidelity is its own training run from
scratch with its own schedule: `training` with `epochs` set to the fidelity, the learning-rate drops
at the same fractions of it. So the 20-epoch cell is what the search measures (its own 20-epoch
schedule, lr 0.01 for the last 3), not a point part-way down a longer run (docs/rankcorr.md).

Trainings run in `workers` processes (era_deap.rankcorr.workers; era_deap.rankcorr.run drives them).
Each finished training is saved at once in `<out>/trainings/`: a killed study continues where it
stopped, and a config change retrains only the trainings it changes. Tables, Spearman matrices and
heatmaps (era_deap.rankcorr.tables) are rewritten whenever a fidelity is complete.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import numpy as np

from ..config import bounded, from_mapping, read_with_base, to_mapping
from ..settings import (  # the search files' rule for relative paths
    ConfigFile,
    DatasetConfig,
    TrainingConfig,
    resolve_files,
)
from ..space.families import Network, genome_key, space_problems

if TYPE_CHECKING:
    import os

    from ..config import _KeyWhere
    from ..space.space import SearchSpace


@dataclass
class FamilyConfig:
    """Every (depth, width) pair: He et al.'s depth 6n+2 and first-section width (families.py)."""
    depths: list[int] = bounded([56], min=8)
    widths: list[int] = bounded([16], min=2)

    def check(self, at: _KeyWhere) -> None:
        for depth in self.depths:
            if (depth - 2) % 6:
                at.fail("depths", "CIFAR ResNet depths 6n+2 (8, 14, 20, 32, 56, 110, ...)", depth)
        for width in self.widths:
            if width % 2:
                at.fail("widths", "even widths (the first used section has 2 * filters channels)", width)

    def networks(self) -> list[Network]:
        return [Network(d, w) for d in self.depths for w in self.widths]


@dataclass
class RankcorrConfig(ConfigFile):
    fidelities: list[int] = bounded([5, 10, 20, 50, 100], min=1)   # epochs, each its own training
    width: FamilyConfig = field(default_factory=lambda: FamilyConfig([56], [8, 16, 32, 64]))
    depth: FamilyConfig = field(default_factory=lambda: FamilyConfig([14, 32, 56, 110, 602], [16]))
    space: Optional[str] = None         # space file for the in/out check (relative to this file); None: default
    seed: int = 0                       # data split and, with network and fidelity, each training's seed
    device: str = "auto"                # auto | cpu | cuda | cuda:0,1 (workers round-robin)
    workers: int = bounded(1, min=1)    # trainings in parallel (processes)
    dataset: DatasetConfig = field(default_factory=DatasetConfig)      # as evaluator.dataset
    training: TrainingConfig = field(default_factory=TrainingConfig)   # as evaluator.training; epochs unused
    source: str = field(default="<config>", compare=False)

    def check(self, at: _KeyWhere) -> None:
        if sorted(set(self.fidelities)) != list(self.fidelities):
            at.fail("fidelities", "increasing epochs without repeats", self.fidelities)

    def families(self) -> dict[str, list[Network]]:
        return {"width": self.width.networks(), "depth": self.depth.networks()}

    def networks(self) -> list[Network]:
        """Every network once, in family order (ResNet-56 w16 is usually in both)."""
        return list(dict.fromkeys(n for family in self.families().values() for n in family))

    def schedule(self, epochs: int) -> TrainingConfig:
        return TrainingConfig(**{**asdict(self.training), "epochs": epochs})


def load_rankcorr_config(path: str | os.PathLike) -> RankcorrConfig:
    """Load a rankcorr file (following `base:`); `space` and `dataset.data_dir` are relative to the file
    that sets them."""
    path = Path(path)
    data = read_with_base(path)
    config = from_mapping(RankcorrConfig, data, where=str(path))
    config.source = str(path)
    resolve_files(config, data, config.dataset, data.get("dataset") or {}, path.resolve().parent)
    return config


# Printed with the study's log and written on its page: the names' widths are He et al.'s, not genes.
WIDTH_LEGEND = ("wW is He et al.'s width: W channels in the first section that holds blocks, the genome's "
                "filters W/2 (section 1 is empty), e.g. w16 = filters 8")


# --- one training per (network, fidelity) -----------------------------------------------------------

def training_seed(seed: int, network: Network, epochs: int) -> int:
    """Derived from (config seed, network, fidelity) only: stable across runs, machines and order."""
    return int(np.random.SeedSequence([seed, zlib.crc32(network.slug.encode()), epochs]).generate_state(1)[0])


def setup(config: RankcorrConfig, network: Network, epochs: int) -> dict:
    """Everything that decides a training's result; a saved result is reused only when it matches."""
    dataset = {k: v for k, v in to_mapping(config.dataset).items() if k not in ("data_dir", "download")}
    return {"arch": network.arch(), "epochs": epochs, "seed": training_seed(config.seed, network, epochs),
            "split_seed": config.seed, "dataset": dataset, "training": to_mapping(config.schedule(epochs))}


def result_path(out: Path, network: Network, epochs: int) -> Path:
    return out / "trainings" / f"{network.slug}-e{epochs}.json"


def load_result(out: Path, config: RankcorrConfig, network: Network, epochs: int) -> dict | None:
    path = result_path(out, network, epochs)
    try:
        saved = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if saved.get("status") in ("oom", "error"):   # may go better on another try (or device)
        return None
    return saved if saved.get("setup") == json.loads(json.dumps(setup(config, network, epochs))) else None


def network_rows(config: RankcorrConfig, space: SearchSpace) -> list[dict]:
    """One row per network: family membership, genome key in the space, why it is outside."""
    families = config.families()
    rows = []
    for network in config.networks():
        problems = space_problems(network, space)
        rows.append({"network": network.name, "depth": network.depth, "width": network.width,
                     "families": [f for f, members in families.items() if network in members],
                     "key": genome_key(network, space), "in_space": not problems, "why_outside": problems})
    return rows
