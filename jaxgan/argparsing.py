"""Subcommand parsers that take options and KEY=VALUE overrides in any order.

`jaxgan train --config X a=1 --force b=2` and `jaxgan eval RUN --json k=v` are what users
type. Plain argparse fills a `nargs="*"` positional at the first positional it meets and
then rejects later KEY=VALUEs; intermixed parsing fixes that, but cannot be asked of the
top-level parser (it has subparsers), so each verb's own parser does it.

Users of big_vision and the Flax examples type overrides as ml_collections flags,
`--config.train.steps=5` or `--config.train.steps 5`; the verb parsers take those as
aliases of `train.steps=5` (`config_flag_aliases`), so both habits work everywhere.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

ALIAS_PREFIX = "--config."


def config_flag_aliases(args: list[str]) -> list[str]:
    """`--config.KEY=VALUE` and `--config.KEY VALUE` rewritten as `KEY=VALUE`; the rest
    (including `--config PRESET` and `--config=PRESET`) unchanged."""
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith(ALIAS_PREFIX) and len(a) > len(ALIAS_PREFIX):
            key, eq, value = a[len(ALIAS_PREFIX):].partition("=")
            if not eq:  # the flag form with the value as the next word
                if i + 1 >= len(args) or args[i + 1].startswith("--"):
                    raise ValueError(f"{a} needs a value: {a}=VALUE or {a} VALUE")
                i += 1
                value = args[i]
            out.append(f"{key}={value}")
        else:
            out.append(a)
        i += 1
    return out


class _Intermixed:
    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:  # parse_known_intermixed_args calls back in here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            try:
                args = config_flag_aliases(list(sys.argv[1:] if args is None else args))
            except ValueError as e:
                self.error(str(e))
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def intermixed(parser: argparse.ArgumentParser) -> Any:
    """`parser`, now parsing options and positionals in any order."""
    parser.__class__ = type("Intermixed" + type(parser).__name__, (_Intermixed, type(parser)),
                            {})
    return parser
