"""`jaxgan sweep`: K runs (seeds x settings) trained by one program (`jaxgan.sweep.sweep`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jaxgan import xla_cpu
from jaxgan.argparsing import intermixed
from jaxgan.errors import ConfigError
from jaxgan.sweep import _check_key, sweep


def _parse_grid(items: list[str]) -> tuple[list[str], dict[str, list[str]]]:
    """KEY=V (a fixed override) or KEY=V1,V2,... (a swept key) from the command line."""
    fixed, grid = [], {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"argument {item!r} must look like KEY=VALUE or KEY=V1,V2")
        key, value = item.split("=", 1)
        vals = [v for v in value.split(",") if v]
        if len(vals) > 1:
            _check_key(key.strip())
            grid[key.strip()] = vals
        else:
            fixed.append(item)
    return fixed, grid


def run_sweep(args: argparse.Namespace) -> int:
    from jaxgan.config import resolve

    fixed, grid = _parse_grid(args.overrides)
    if args.seeds <= 0:
        raise ConfigError(f"--seeds must be a positive integer, got {args.seeds}")
    settings = int(np.prod([len(v) for v in grid.values()])) if grid else 1
    # before anything starts JAX: one CPU device per core, as the runs share nothing
    xla_cpu.split_cpu_for_runs(args.seeds * settings)
    cfg = resolve(args.config, fixed)
    workdir = args.workdir or str(Path("runs") / f"{cfg.name}_sweep")
    sweep(cfg, args.seeds, grid, workdir)
    print(f"jaxgan: sweep of {args.seeds} seed(s) x {settings} setting(s) in {workdir} "
          f"(run_XX/ per run, summary.json; {len(jax.local_devices())} device(s))",
          file=sys.stderr)
    return 0


def add_sweep_parser(subparsers: Any) -> None:
    s = intermixed(subparsers.add_parser("sweep",
                                        help="train K GANs (seeds x settings) in one program"))
    s.add_argument("--config", default=None, help="preset name or a .py/.json config file")
    s.add_argument("--seeds", type=int, default=4, help="seeds seed..seed+K-1")
    s.add_argument("--workdir", default=None, help="default runs/NAME_sweep")
    s.add_argument("overrides", nargs="*", metavar="KEY=V[,V2,...]",
                   help="fixed overrides, or comma lists for seed/optim.{g,d}.{lr,b1,b2,eps}")
    s.set_defaults(func=run_sweep)
