"""The config schema described for people: every key with its type and default.

`jaxgan config --keys` prints it, so that the keys a preset does not mention can be found
without reading `config.py`; the types are the dataclasses' annotations, the same ones that
KEY=VALUE overrides are checked against.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any

from jaxgan.config import Config

__all__ = ["describe_keys"]


def _type_name(typ: Any) -> str:
    if typing.get_origin(typ) is list:
        return f"list[{_type_name(typing.get_args(typ)[0])}]"
    return getattr(typ, "__name__", str(typ))


def describe_keys(cfg: Any | None = None, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every settable key as (dotted key, type name, value), in schema order; the values
    are `cfg`'s, by default the dataclasses' defaults (`Config()`), not a preset's."""
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
