"""The resolved config saved in a run directory, its hash, and the rule for resuming with a changed one.

One hash names a search config: `config_hash` over `search_keys`, the dotted keys that say what is
searched. summary.json records it (16 hex digits) and `era rundir state`, `era compare` check it; the
report names a config by it (6 hex digits, without the seed, which tells seeds of one search apart).

Keys that only say *where and how fast* a search runs may change between sessions; everything that
changes *what* is searched may not (the journal would no longer replay). The budget may grow. A key
the saved config lacks (written by an older version of era-deap) counts as unchanged while the new
config leaves it at its default: a version that adds a key keeps the old behaviour at the default.
"""
from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import re
import sysconfig
import typing
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..config import default_instance, field_default
from ..errors import RunDirError
from .safe_write import write_atomic

if TYPE_CHECKING:
    from collections.abc import Collection

    from ..settings import ConfigFile, SearchConfig

RUNTIME_KEYS = ("evaluator.workers", "evaluator.executor", "evaluator.device", "evaluator.gpu_share",
                "evaluator.dataset.data_dir", "evaluator.dataset.download",
                # speed only: the same arithmetic on the same batches
                "evaluator.training.cuda_graph", "evaluator.training.eval_batch_size",
                "evaluator.final.cuda_graph", "evaluator.final.eval_batch_size")


# Operators may change on resume: the journal keeps what was asked and measured, and an evolution
# adopts the journal's genomes where its new operators would ask others (docs/search.md). What they
# act on and what is measured (space, objective, dataset, schedule, population, seed) may not change.
OPERATOR_KEYS = ("strategy.mutate", "strategy.mate", "strategy.select", "strategy.encoding")


def _operator_key(key: str) -> bool:
    return any(key == k or key.startswith(k + ".") for k in OPERATOR_KEYS)


def _flat(data, prefix="") -> dict:
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            out.update(_flat(value, f"{prefix}{key}."))
        return out
    return {prefix[:-1]: data}


# Not what is searched: the budget (it may grow on resume), the command that started a run, and the keys
# that only say where and how fast it runs.
NOT_THE_SEARCH = ("budget", "command", *RUNTIME_KEYS)


def search_keys(config: SearchConfig | dict) -> dict:
    """The dotted keys that define the search: of a SearchConfig, or of a saved config.yaml's data."""
    flat = _flat(config if isinstance(config, dict) else config.to_dict())
    return {k: v for k, v in flat.items() if k not in NOT_THE_SEARCH}


def config_hash(config: SearchConfig | dict, leave_out: Collection[str] = (), digits: int = 16) -> str:
    """Hex digits of the SHA-256 of search_keys(config) less the keys `leave_out`."""
    keys = {k: v for k, v in search_keys(config).items() if k not in leave_out}
    return hashlib.sha256(json.dumps(keys, sort_keys=True, default=str).encode()).hexdigest()[:digits]


# "package.module:name", as the config names operators, objectives, statistics and selections.
_CALLABLE = re.compile(r"^([A-Za-z_][\w.]*):[A-Za-z_][\w.]*$")


def code_hashes(config: SearchConfig | dict) -> dict[str, str]:
    """{module: 16 hex digits of the SHA-256 of its source} for every user module the config names
    ("my_operators:mut_step"): the code a run ran, which its config alone does not say. era_deap's own
    modules and installed packages (the standard library, site-packages) are left out: their versions
    are summary.json's `versions`. A module that cannot be found is left out too (the search that runs
    next names it)."""
    stdlib = Path(sysconfig.get_paths()["stdlib"]).resolve()
    hashes = {}
    for value in search_keys(config).values():
        match = _CALLABLE.match(value) if isinstance(value, str) else None
        if not match or match.group(1).split(".")[0] == "era_deap":
            continue
        try:
            origin = importlib.util.find_spec(match.group(1)).origin
        except (ImportError, AttributeError, ValueError):
            continue
        if not origin or not Path(origin).is_file():
            continue
        source = Path(origin).resolve()
        installed = source.is_relative_to(stdlib) or {"site-packages", "dist-packages"} & set(source.parts)
        if not installed:
            hashes[match.group(1)] = hashlib.sha256(source.read_bytes()).hexdigest()[:16]
    return dict(sorted(hashes.items()))


def write_config(path: Path, config: ConfigFile, command: str) -> None:
    data = {**config.to_dict(), "command": command}
    write_atomic(Path(path), yaml.safe_dump(data, sort_keys=False).encode())


def read_saved_config(saved_path: Path) -> dict:
    """The config a run directory saved (plain data, without the command that started it)."""
    try:
        saved = yaml.safe_load(Path(saved_path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RunDirError(f"{saved_path}: cannot read the saved config of this run: {exc}") from None
    if not isinstance(saved, dict):
        raise RunDirError(f"{saved_path}: expected the saved config of a run (a mapping), got {type(saved).__name__}")
    saved.pop("command", None)
    return saved


def load_run_config(saved_path: Path) -> SearchConfig:
    """The SearchConfig a run directory saved (its paths are absolute already)."""
    from ..settings import search_config_from
    saved_path = Path(saved_path)
    return search_config_from(read_saved_config(saved_path), source=str(saved_path), base_dir=saved_path.parent)


def check_resume_compatible(saved_path: Path, config: SearchConfig) -> list[str]:
    """RunDirError unless `config` may resume the run that saved `saved_path`; returns the operator
    keys that changed (allowed: the search then adopts its journal's genomes)."""
    saved = read_saved_config(saved_path)
    old = {k: v for k, v in _flat(saved).items() if k not in RUNTIME_KEYS}
    new = {k: v for k, v in _flat(config.to_dict()).items() if k not in RUNTIME_KEYS}
    differ = sorted(k for k in set(old) | set(new)
                    if k != "budget" and old.get(k, _default(config, k)) != new.get(k))
    changed = [k for k in differ if not _operator_key(k) and not k.startswith("statistics.")]
    if changed:
        shown = lambda flat, k: repr(flat[k]) if k in flat else "(absent)"   # noqa: E731
        details = "; ".join(f"{k}: {shown(old, k)} -> {shown(new, k)}" for k in changed[:5])
        raise RunDirError(f"{saved_path}: cannot resume with a changed config ({details}); only the budget "
                          f"may grow, operators ({', '.join(OPERATOR_KEYS)}), the logbook's statistics and "
                          f"{', '.join(RUNTIME_KEYS)} may change "
                          "(--fresh moves the old run aside and starts anew)")
    if new.get("budget", 0) < old.get("budget", 0):
        raise RunDirError(f"{saved_path}: budget: expected at least the run's budget {old['budget']} "
                          f"(a budget may only grow on resume), got {new['budget']}")
    return [k for k in differ if _operator_key(k)]


_NO_DEFAULT = object()


# Keys added since 0.1 whose default then depended on the run: what a run saved without them did.
_LEGACY_DEFAULTS = {
    # 0.1: random, local search and BO drew uniform networks, the evolutions uniform configurations.
    "strategy.sampling": lambda config: "networks" if config.strategy.kind in (
        "random_search", "local_search", "bayesian_optimization") else "configurations",
}


def _default(config, key: str):
    """What a config that leaves out the dotted `key` gets (a plain value), as `from_mapping` fills it: from
    the parent field's own default instance where it has one (`evaluator.final`: the full schedule),
    else from the field's default; or a marker that equals nothing."""
    if key in _LEGACY_DEFAULTS:
        return _LEGACY_DEFAULTS[key](config)
    *parents, name = key.split(".")
    node, parent_default = config, None
    for part in parents:
        field = _fields(node).get(part)
        parent_default = None if field is None else default_instance(field, typing.get_type_hints(type(node))[part])
        node = getattr(node, part, None)
    if parent_default is not None:
        value = getattr(parent_default, name, _NO_DEFAULT)
    else:
        field = _fields(node).get(name)
        value = _NO_DEFAULT if field is None else field_default(field)
    return _NO_DEFAULT if value is dataclasses.MISSING or dataclasses.is_dataclass(value) else value


def _fields(node) -> dict:
    return {f.name: f for f in dataclasses.fields(node)} if dataclasses.is_dataclass(node) else {}
