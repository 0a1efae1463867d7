"""The config schema's types: KEY=VALUE values checked against them, and every key
described for people with its type and default.

`coerce` converts an override string or a JSON value to a field's declared type (the
dataclasses' annotations in `config.py`), or refuses it in one line. `jaxgan config --keys`
prints `describe_keys`, so that the keys a preset does not mention can be found without
reading `config.py`.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

__all__ = ["describe_keys", "coerce"]


def coerce(value: Any, typ: Any, key: str) -> Any:
    """Convert an override string or JSON value to the field's declared type, or refuse."""
    from jaxgan.config import ConfigError  # config.py imports this module first

    origin = typing.get_origin(typ)
    if typ is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "1", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key} must be true or false, got {value!r}")
    if typ is int:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be an integer, got {value!r}")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            try:
                f = float(value)
            except ValueError:
                raise ConfigError(f"{key} must be an integer, got {value!r}") from None
            if f.is_integer() and abs(f) < 2**62:
                return int(f)
        raise ConfigError(f"{key} must be an integer, got {value!r}")
    if typ is float:
        if isinstance(value, bool):
            raise ConfigError(f"{key} must be a number, got {value!r}")
        if isinstance(value, (int, float)):
            return float(value)
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{key} must be a number, got {value!r}") from None
    if typ is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{key} must be a string, got {value!r}")
    if origin is list:
        (item_t,) = typing.get_args(typ)
        if isinstance(value, str):
            items = [v for v in value.split(",") if v] if value.strip() else []
        elif isinstance(value, list):
            items = value
        else:
            raise ConfigError(f"{key} must be a comma-separated list, got {value!r}")
        return [coerce(v, item_t, key) for v in items]
    raise ConfigError(f"{key} has an unsupported type {typ}")


def _type_name(typ: Any) -> str:
    if typing.get_origin(typ) is list:
        return f"list[{_type_name(typing.get_args(typ)[0])}]"
    return getattr(typ, "__name__", str(typ))


def describe_keys(cfg: Any | None = None, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every settable key as (dotted key, type name, value), in schema order; the values
    are `cfg`'s, by default the dataclasses' defaults (`Config()`), not a preset's."""
    from jaxgan.config import Config

    cfg = Config() if cfg is None else cfg
    hints = typing.get_type_hints(type(cfg))
    out: list[tuple[str, str, Any]] = []
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if dataclasses.is_dataclass(hints[f.name]):
            out.extend(describe_keys(value, f"{prefix}{f.name}."))
        else:
            out.append((f"{prefix}{f.name}", _type_name(hints[f.name]), value))
    return out
