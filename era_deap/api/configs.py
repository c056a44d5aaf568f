"""Configs from Python: a YAML file with keyword overrides, validated exactly as the file is, and the
policies `era search` and the Python API share (where a user's operators are imported from, the budget
of a resumed run).

    config = load_config("configs/bench/regularized_evolution.yaml", seed=3, budget=50, workers=2)

An override is a top-level key of the config (seed, budget, name, space, objectives, strategy, evaluator,
...) or one of the evaluator's keys named alone (EVALUATOR_KEYS: workers, executor, device, objective,
table, observe, gpu_share). A mapping merges into the file's (`strategy={"population_size": 20}`); None
leaves the file's value. A bad value is the same one-line ConfigError as in YAML, naming the file and
the override: `base.yaml (budget=0): budget: expected a value >= 1, got 0`.
"""
from __future__ import annotations

import dataclasses
import os
import sys
from pathlib import Path
from typing import Any, Union

from ..config import ConfigError, Located, read_with_base
from ..search.rundir import CONFIG, RunDirectory
from ..search.script import KIND as SCRIPT_KIND
from ..search.script import ScriptConfig
from ..settings import SearchConfig, replace, search_config_from
from ..space.space import SearchSpace
from ..space.space import load_space as _load_space

EVALUATOR_KEYS = ("workers", "executor", "device", "objective", "table", "observe", "gpu_share")
TOP_LEVEL_KEYS = tuple(f.name for f in dataclasses.fields(SearchConfig) if f.name != "source")
# What a Problem keeps of a file's strategy: the operators its toolbox offers, and how it draws.
SCRIPT_KEYS = tuple(f.name for f in dataclasses.fields(ScriptConfig) if f.name != "kind")

ConfigLike = Union[str, os.PathLike, SearchConfig]


def load_space(path: Union[str, os.PathLike, None] = None) -> SearchSpace:
    """The search space in a space file (`configs/space.yaml`), or the built-in default for None."""
    return _load_space(None if path is None else str(path))


def load_config(config: ConfigLike, **overrides: Any) -> SearchConfig:
    """A search config from a YAML file (following `base:`), or a copy of a loaded one, with `overrides`
    applied before validation. A file's folder and the working directory go on the module search path,
    as `era search` does, so the file may name operators and objectives of one's own beside it."""
    data, source, base_dir = _mapping(config)
    _override(data, overrides, source)
    return search_config_from(data, source=source, base_dir=base_dir)


def problem_config(config: ConfigLike, **overrides: Any) -> SearchConfig:
    """The config of an `era_deap.Problem`: `strategy.kind: deap` (the script asks), keeping the operators
    and sampling of the file's strategy, if it has one; named `deap` unless the file or `name=` says."""
    data, source, base_dir = _mapping(config)
    given = data.get("strategy") if isinstance(data.get("strategy"), dict) else Located()
    where = getattr(given, "where", {})
    strategy = Located({k: v for k, v in given.items() if k in SCRIPT_KEYS}, where=where,
                       origin=getattr(given, "origin", source))
    strategy["kind"] = SCRIPT_KIND
    data["strategy"] = strategy
    data.setdefault("name", SCRIPT_KIND)
    _override(data, overrides, source)
    return search_config_from(data, source=source, base_dir=base_dir)


def add_import_paths(config_path: Union[str, os.PathLike]) -> None:
    """A user's own operators and objectives may live beside the config or in the working directory."""
    for directory in (str(Path(config_path).resolve().parent), os.getcwd()):
        if directory not in sys.path:
            sys.path.insert(0, directory)


def resume_budget(config: SearchConfig, out: Union[str, os.PathLike], budget: int | None = None) -> SearchConfig:
    """The budget a run continues with when `out` already holds it: `budget` when given, which must be at
    least the run's (a budget only grows); else the run's own, when an earlier session grew it past the
    config's. `era search --resume [--budget N]` and the Python API apply this one rule."""
    saved = RunDirectory(out).saved_budget()
    if budget is not None:
        if saved is not None and budget < saved:
            raise ConfigError(f"budget (--budget): expected at least the run's budget {saved} ({Path(out) / CONFIG}; "
                              f"a budget may only grow on resume, and without one the run keeps its own), got {budget}")
        return replace(config, budget=budget)
    if saved is not None and saved > config.budget:
        return replace(config, budget=saved)
    return config


def _mapping(config: ConfigLike) -> tuple[Located, str, Path | None]:
    """(the config as a located mapping, its source, the folder its relative paths start from)."""
    if isinstance(config, SearchConfig):
        if Path(config.source).is_file():
            add_import_paths(config.source)
        return _located(config.to_dict(), config.source), config.source, None   # its paths are absolute
    if not isinstance(config, (str, os.PathLike)):
        raise TypeError(f"expected a config file's path or a SearchConfig, got {type(config).__name__}")
    path = Path(config)
    add_import_paths(path)
    return read_with_base(path), str(path), path.resolve().parent


def _located(data, origin: str):
    if not isinstance(data, dict):
        return data
    return Located({k: _located(v, origin) for k, v in data.items()}, origin=origin)


def _override(data: Located, overrides: dict, source: str) -> None:
    for key, value in overrides.items():
        if value is None:
            continue
        where = f"{source} ({key}={value!r})"
        if key in EVALUATOR_KEYS and key not in TOP_LEVEL_KEYS:
            if not isinstance(data.get("evaluator"), dict):
                data["evaluator"] = Located(origin=where)
            target = data["evaluator"]
        elif key in TOP_LEVEL_KEYS:
            target = data
        else:
            raise ConfigError(f"{source}: {key}=: unknown override; expected a key of the config "
                              f"({', '.join(TOP_LEVEL_KEYS)}) or of its evaluator ({', '.join(EVALUATOR_KEYS)})")
        if key == "space" or (key == "table" and Path(str(value)).exists()):
            value = str(Path(value).resolve())        # a path given in Python: relative to the working directory
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            value = _merged(target[key], value, where)
        elif isinstance(value, dict):
            value = _located(value, where)
        target[key] = value
        target.where[key] = where


def _merged(base: dict, changes: dict, where: str) -> Located:
    merged = Located(base, where=getattr(base, "where", {}), origin=getattr(base, "origin", where))
    for key, value in changes.items():
        merged[key] = _merged(merged[key], value, where) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
        merged.where[key] = where
    return merged
