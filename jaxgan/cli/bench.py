"""`jaxgan bench`: the step speed of a config (`jaxgan.bench.bench`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import jax

from jaxgan.argparsing import intermixed
from jaxgan.bench import MIN_CALLS, bench, format_report


def run_bench(args: argparse.Namespace) -> int:
    from jaxgan.config import ConfigError, resolve

    if args.steps <= 0 or args.warmup < 0:
        raise ConfigError("--steps must be positive and --warmup non-negative")
    cfg = resolve(args.config, args.overrides, jax.device_count())
    r = bench(cfg, steps=args.steps, warmup=args.warmup)
    print(json.dumps(r) if args.json else format_report(r), file=sys.stdout)
    return 0


def add_bench_parser(subparsers: Any) -> None:
    b = intermixed(subparsers.add_parser("bench",
                                        help="time the compiled train step of a config"))
    b.add_argument("--config", default=None, help="preset name or a .py/.json config file")
    b.add_argument("--steps", type=int, default=20,
                   help=f"timed GAN iterations (whole calls, at least {MIN_CALLS})")
    b.add_argument("--warmup", type=int, default=2, help="untimed calls after compiling")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("overrides", nargs="*", metavar="KEY=VALUE")
    b.set_defaults(func=run_bench)
