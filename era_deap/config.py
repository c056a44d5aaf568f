"""Strict configuration: YAML files loaded into dataclasses, with errors a person can act on.

Every error names the file, the line where the YAML has one, the full dotted key, what was expected and
what was given. Unknown keys are rejected by name with the nearest valid key suggested (as nanoGPT
does). User input is never checked with `assert`.

A config file may name a `base:` file (relative to itself); the two are deep-merged, the including
file winning. That is how a profile keeps shared settings in one place.
"""
from __future__ import annotations

import copy
import dataclasses
import difflib
import os
import pkgutil
import types
import typing
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args, get_origin

import yaml

from .errors import ConfigError  # noqa: F401  (re-exported: config.ConfigError is how most modules name it)

if TYPE_CHECKING:
    from collections.abc import Callable

# --- YAML with positions ---------------------------------------------------------------------------

class Located(dict):
    """A mapping that remembers where each key came from: `where[key] = "file:line"`."""

    def __init__(self, *args, where: dict | None = None, origin: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.where: dict[str, str] = dict(where or {})
        self.origin = origin  # the file (and line) of the mapping itself


class _LocatingLoader(yaml.SafeLoader):
    pass


def _construct_located(loader: _LocatingLoader, node: yaml.MappingNode) -> Located:
    loader.flatten_mapping(node)
    result = Located(origin=f"{loader.name}:{node.start_mark.line + 1}")
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in result:
            raise ConfigError(f"{loader.name}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
        result[key] = loader.construct_object(value_node, deep=True)
        result.where[key] = f"{loader.name}:{key_node.start_mark.line + 1}"
    return result


_LocatingLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_located)


def read_yaml(path: str | os.PathLike) -> Located:
    """Parse one YAML file into a `Located` mapping; malformed YAML names file, line and column."""
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    loader = _LocatingLoader(text)
    loader.name = str(path)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        raise ConfigError(f"{where}: malformed YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()
    if data is None:
        data = Located(origin=str(path))
    if not isinstance(data, Located):
        raise ConfigError(f"{path}: expected a mapping of keys at the top level, got {type(data).__name__}")
    return data


def merge(base: Located, override: Located) -> Located:
    """Deep-merge two located mappings; keys of `override` win, nested mappings merge."""
    merged = Located(base, where=base.where, origin=override.origin)
    for key, value in override.items():
        if isinstance(value, Located) and isinstance(merged.get(key), Located):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
        merged.where[key] = override.where.get(key, override.origin)
    return merged


def read_with_base(path: str | os.PathLike, _seen: tuple = ()) -> Located:
    """Read a config file, following `base:` (a path relative to the file) recursively."""
    path = Path(path)
    data = read_yaml(path)
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise ConfigError(f"{data.where.get('base', path)}: base: expected a file path, got {base!r}")
    base_path = (path.parent / base).resolve()
    if base_path in _seen:
        raise ConfigError(f"{path}: base: {base} includes itself")
    if not base_path.is_file():   # name the file (and line) that points to it, as `space:` does
        raise ConfigError(f"{data.where.get('base', path)}: base: file not found: {base_path}")
    return merge(read_with_base(base_path, _seen + (base_path,)), data)


# --- dataclasses from mappings ----------------------------------------------------------------------

def _describe(tp: Any) -> str:
    origin = get_origin(tp)
    if origin is Literal:
        return "one of " + ", ".join(repr(a) if isinstance(a, str) else str(a) for a in get_args(tp))
    if origin in (typing.Union, types.UnionType):
        parts = [_describe(a) for a in get_args(tp) if a is not type(None)]
        text = " or ".join(parts)
        return text + " (or null)" if type(None) in get_args(tp) else text
    if origin in (list, tuple):
        (item, *_) = get_args(tp) or (Any,)
        return f"a list of {_describe(item)}"
    if origin is dict or tp is dict:
        return "a mapping"
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    return {int: "an integer", float: "a number", str: "a string", bool: "true or false"}.get(tp, str(tp))


def _same_shape(value: Any, tp: Any) -> bool:
    """A mapping given for a mapping type (or a list for a list type): then its contents are what is wrong."""
    if isinstance(value, dict):
        return dataclasses.is_dataclass(tp) or get_origin(tp) is dict or tp is dict
    return isinstance(value, list) and get_origin(tp) in (list, tuple)


def _convert(value: Any, tp: Any, key: str, where: str) -> Any:
    """Check `value` against the annotation `tp`; return it converted (ints to floats, lists to lists)."""
    origin = get_origin(tp)
    fail = ConfigError(f"{where}: {key}: expected {_describe(tp)}, got {value!r}")
    if tp is Any:
        return value
    if origin is Literal:
        if value in get_args(tp) and type(value) in {type(a) for a in get_args(tp)}:
            return value
        raise fail
    if origin in (typing.Union, types.UnionType):
        args = get_args(tp)
        if value is None and type(None) in args:
            return None
        inner = None   # the error of the one alternative of this value's shape: it says what is wrong inside
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key, where)
            except ConfigError as exc:
                if _same_shape(value, arg):
                    inner = exc
        raise inner or fail
    if origin in (list, tuple):
        if not isinstance(value, list):
            raise fail
        (item, *_) = get_args(tp) or (Any,)
        return [_convert(v, item, f"{key}[{i}]", where) for i, v in enumerate(value)]
    if origin is dict or tp is dict:
        if not isinstance(value, dict):
            raise fail
        return dict(value)
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise fail
        return from_mapping(tp, value, prefix=key + ".", where=where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise fail
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise fail
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise fail
    if tp is str:
        if isinstance(value, str):
            return value
        raise fail
    raise TypeError(f"config annotation {tp!r} for {key} is not supported")


def from_mapping(cls: type, data: dict, prefix: str = "", where: str = "<config>",
                 defaults: object | None = None) -> Any:
    """Build dataclass `cls` from `data`, rejecting unknown keys and wrong types by full dotted key.

    Keys `data` leaves out come from `defaults` (an instance of `cls`) when given, else from the class.
    A nested dataclass field whose default is an instance of its own (`evaluator.final`: the full
    schedule, not the search one) fills the keys a mapping leaves out from that instance.
    Field metadata may hold `min`/`max` bounds, checked here; cross-field rules belong in the
    dataclass's `check(where)` method, called after construction.
    """
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    located_where = getattr(data, "where", {})
    origin = getattr(data, "origin", where) or where
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.5)
            hint = f"; did you mean {prefix}{close[0]}?" if close else f"; valid keys: {', '.join(fields)}"
            raise ConfigError(f"{located_where.get(key, origin)}: unknown key {prefix}{key}{hint}")
    kwargs = {}
    for name, field in fields.items():
        if name not in data:
            if defaults is not None:
                kwargs[name] = copy.deepcopy(getattr(defaults, name))
            continue
        key_where = located_where.get(name, origin)
        base = default_instance(field, hints[name])
        if base is not None and isinstance(data[name], dict):
            value = from_mapping(hints[name], data[name], prefix + name + ".", key_where, defaults=base)
        else:
            value = _convert(data[name], hints[name], prefix + name, key_where)
        _check_bounds(value, field.metadata, prefix + name, key_where)
        kwargs[name] = value
    missing = [n for n, f in fields.items() if n not in kwargs and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise ConfigError(f"{origin}: missing key {prefix}{missing[0]} ({_describe(hints[missing[0]])})")
    obj = cls(**kwargs)
    check = getattr(obj, "check", None)
    if check is not None:
        check(_KeyWhere(located_where, origin, prefix))
    return obj


def field_default(field: dataclasses.Field) -> Any:
    """A dataclass field's default value (a fresh one from its default_factory), or dataclasses.MISSING."""
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    return dataclasses.MISSING


def default_instance(field: dataclasses.Field, tp: Any) -> object | None:
    """The default of a field typed as a dataclass (not a Union), as its default_factory makes it, or
    None: what fills the keys a mapping for that field leaves out."""
    if not (isinstance(tp, type) and dataclasses.is_dataclass(tp)) or field.default_factory is dataclasses.MISSING:
        return None
    return field.default_factory()


def _check_bounds(value: Any, meta: typing.Mapping, key: str, where: str) -> None:
    values = value if isinstance(value, list) else [value]
    for v in values:
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            continue
        if "min" in meta and v < meta["min"]:
            raise ConfigError(f"{where}: {key}: expected a value >= {meta['min']}, got {v!r}")
        if "max" in meta and v > meta["max"]:
            raise ConfigError(f"{where}: {key}: expected a value <= {meta['max']}, got {v!r}")
        if "above" in meta and not v > meta["above"]:
            raise ConfigError(f"{where}: {key}: expected a value > {meta['above']}, got {v!r}")
        if "below" in meta and not v < meta["below"]:
            raise ConfigError(f"{where}: {key}: expected a value < {meta['below']}, got {v!r}")


class _KeyWhere:
    """Passed to a dataclass's `check`: `fail(key, expected, given)` raises a located ConfigError."""

    def __init__(self, where: dict, origin: str, prefix: str):
        self._where, self._origin, self.prefix = where, origin, prefix

    def fail(self, key: str, expected: str, given: Any) -> typing.NoReturn:
        location = self._where.get(key, self._origin)
        raise ConfigError(f"{location}: {self.prefix}{key}: expected {expected}, got {given!r}")


def bounded(default: Any = dataclasses.MISSING, **bounds) -> Any:
    """A dataclass field with numeric bounds (`min`, `max`, `above`, `below`) checked on load."""
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda d=default: type(d)(d), metadata=bounds)
    return dataclasses.field(default=default, metadata=bounds)


def to_mapping(obj: Any) -> Any:
    """The plain-data form of a config dataclass (for saving the resolved config)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_mapping(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_mapping(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_mapping(v) for k, v in obj.items()}
    return obj


# Modules that moved when era_deap/ was grouped by stage (0.1 -> 0.2): configs and run directories
# written before still name them.
MOVED_MODULES = {"era_deap.objectives": "era_deap.training.objectives"}


def resolve_callable(spec: str, key: str, expected: str = "'package.module:function'") -> Callable[..., Any]:
    """The callable a config names as "package.module:function" (pkgutil.resolve_name), or one
    ConfigError naming `key`: a malformed name, a module that does not import, a missing callable."""
    module, colon, name = str(spec).partition(":")
    if not module or not colon or not name:
        raise ConfigError(f"{key}: expected {expected}, got {spec!r}")
    module = MOVED_MODULES.get(module, module)
    try:
        target = pkgutil.resolve_name(f"{module}:{name}")
    except AttributeError:
        target = None
    except Exception as exc:   # the module itself fails to import (ImportError, SyntaxError, ...)
        raise ConfigError(f"{key}: cannot import module {module!r} ({type(exc).__name__}: {exc})") from None
    if not callable(target):
        raise ConfigError(f"{key}: module {module!r} has no callable {name!r}")
    return target
