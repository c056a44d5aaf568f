"""The configuration of a benchmark build, loaded as strictly as a search file:

    name: digits-quick               # the table's name
    space: ../quick/space.yaml       # relative to this file; omitted: the built-in default space
    seeds: 3                         # training seeds 0..seeds-1 of every network (at least 3)
    seed: 0                          # the data split, and the order networks are built in
    evaluator: {objective: train, workers: 2, dataset: {name: digits}, training: {epochs: 12}}
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from ..config import bounded, from_mapping, read_with_base
from ..errors import ConfigError
from ..settings import ConfigFile, EvaluatorConfig, resolve_files

if TYPE_CHECKING:
    import os


@dataclass
class BuildConfig(ConfigFile):
    name: str
    space: Optional[str] = None
    seeds: int = bounded(3, min=3)
    seed: int = 0
    evaluator: EvaluatorConfig = field(default_factory=EvaluatorConfig)
    source: str = field(default="<config>", compare=False)

    @property
    def training_seeds(self) -> list[int]:
        return list(range(self.seeds))


def load_build_config(path: str | os.PathLike) -> BuildConfig:
    path = Path(path)
    data = read_with_base(path)
    config = from_mapping(BuildConfig, data, where=str(path))
    config.source = str(path)
    dataset = (data.get("evaluator") or {}).get("dataset") or {}
    resolve_files(config, data, config.evaluator.dataset, dataset, path.resolve().parent)
    if config.evaluator.objective_kind.reads_table:
        raise ConfigError(f"{data.where.get('evaluator', path)}: evaluator.objective: expected 'train' or "
                          f"'package.module:function' for a build (a table is built from one), "
                          f"got {config.evaluator.objective!r}")
    return config
