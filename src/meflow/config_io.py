"""Settings files and overrides for any settings dataclass: nested dicts, YAML, ``key=value``.

Generic over the dataclass (no setting of its own): ``meflow.config`` defines the settings and
re-exports these functions.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

from meflow.errors import ConfigError

T = TypeVar("T")


def merge(obj: T, data: dict[str, Any] | None, where: str = "") -> T:
    """``obj`` with the settings of a nested dict (a YAML file's) laid over it."""

    def deep(base: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        out = dict(base)
        for k, v in new.items():
            out[k] = deep(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    if not data:
        return obj
    if not isinstance(data, dict):
        raise ConfigError(f"{where or type(obj).__name__}: expected a mapping")
    return from_dict(type(obj), deep(to_dict(obj), data), where)


def _resolve_type(tp: Any) -> Any:
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return args[0] if args else tp
    return tp


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "") -> T:
    """Builds ``cls`` from a nested dict, rejecting unknown keys with a suggestion."""
    data = data or {}
    if not isinstance(data, dict):
        raise ConfigError(f"{where or cls.__name__}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{where}.{key}" if where else str(key)
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown setting {path!r}{hint} (valid: {', '.join(fields)})")
        tp = _resolve_type(hints[key])
        if dataclasses.is_dataclass(tp):
            kwargs[key] = from_dict(tp, value, path)  # type: ignore[arg-type]
        else:
            kwargs[key] = _coerce(path, value, tp)
    return cls(**kwargs)


def _coerce(path: str, value: Any, tp: Any) -> Any:
    if tp is str and value is None:  # 'key=' on the command line: the empty string
        return ""
    if tp is str and isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # 'train.shifts=0': YAML reads a whole number
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{path}: expected a number, got {value!r}")
    if (tp in (int, str, bool) and not isinstance(value, tp)) or (
        tp is int and isinstance(value, bool)
    ):
        raise ConfigError(f"{path}: expected {tp.__name__}, got {value!r}")
    return value


def to_dict(obj: Any) -> dict[str, Any]:
    """The plain nested dict of a config dataclass (JSON- and YAML-ready)."""
    return dataclasses.asdict(obj)


def read_yaml(path: str | Path) -> dict[str, Any]:
    """The mapping a YAML settings file holds (empty for an empty file); errors name the file."""
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read config ({exc.strerror})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of settings, got {type(data).__name__}")
    return data


def load_yaml(cls: type[T], path: str | Path) -> T:
    """Reads a YAML file into ``cls``; errors name the file."""
    data = read_yaml(path)
    try:
        return from_dict(cls, data)
    except ConfigError as exc:
        raise ConfigError(f"{Path(path)}: {exc}") from None


def override(obj: T, assignments: typing.Sequence[str]) -> T:
    """Applies 'section.key=value' overrides (values parsed as YAML scalars)."""
    import yaml

    data = to_dict(obj)
    for item in assignments:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value, e.g. train.epochs=10")
        key, raw = item.split("=", 1)
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        try:
            node[parts[-1]] = yaml.safe_load(raw)
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0]
            raise ConfigError(f"override {item!r}: value is not a YAML scalar ({first})") from None
    return from_dict(type(obj), data)


def settings_match(cls: type[T], stored: dict[str, Any] | None, current: T) -> bool:
    """Whether settings recorded with an earlier file (``to_dict`` of a ``cls``) are
    ``current``: a setting added since is read at its default, which keeps what came before
    (so a new setting does not orphan caches made before it); an unknown or bad one: False."""
    try:
        return bool(from_dict(cls, stored) == current)
    except (ConfigError, TypeError, ValueError):
        return False
