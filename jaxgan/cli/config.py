"""`jaxgan presets` and `jaxgan config`: what the presets are, and what a run would be
trained with (`jaxgan.config.resolve`)."""

from __future__ import annotations

import argparse


def first_paragraph(doc: str) -> str:
    """A docstring's first paragraph (up to the first blank line) as one line."""
    lines = []
    for line in doc.strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


def cmd_presets(args: argparse.Namespace) -> int:
    from jaxgan.config import list_presets

    for name in list_presets():
        mod = __import__(f"jaxgan.configs.{name}", fromlist=["get_config"])
        print(f"{name:24s} {first_paragraph(mod.__doc__ or '')}")
    return 0


def cmd_config(args: argparse.Namespace) -> int:
    """`jaxgan config [PRESET] [KEY=VALUE ...] [--keys]`: what a run would be trained with."""
    import json

    from jaxgan import config as config_lib
    from jaxgan.schema import describe_keys

    preset, overrides = args.config, list(args.overrides)
    if overrides and "=" not in overrides[0]:  # `jaxgan config PRESET KEY=VALUE ...`
        if preset:
            raise config_lib.ConfigError(f"give the preset once, not both {overrides[0]} and "
                                         f"--config {preset}")
        preset = overrides.pop(0)
    cfg = config_lib.resolve(preset, overrides)
    if not args.keys:
        print(cfg.to_json())
        return 0
    chosen = {k: v for k, _, v in describe_keys(cfg)}
    rows = [("KEY", "TYPE", "DEFAULT", f"{cfg.name.upper()} (where it differs)")]
    rows += [(k, t, json.dumps(d), json.dumps(chosen[k]) if chosen[k] != d else "")
             for k, t, d in describe_keys()]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for row in rows:
        print(("  ".join(f"{c:{w}}" for c, w in zip(row[:3], widths, strict=True)) +
               f"  {row[3]}").rstrip())
    return 0
