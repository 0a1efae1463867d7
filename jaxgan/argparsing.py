"""Subcommand parsers that take options and KEY=VALUE overrides in any order.

`jaxgan train --config X a=1 --force b=2` and `jaxgan eval RUN --json k=v` are what users
type. Plain argparse fills a `nargs="*"` positional at the first positional it meets and
then rejects later KEY=VALUEs; intermixed parsing fixes that, but cannot be asked of the
top-level parser (it has subparsers), so each verb's own parser does it.
"""

from __future__ import annotations

import argparse
from typing import Any


class _Intermixed:
    _inside = False

    def parse_known_args(self, args=None, namespace=None):
        if self._inside:  # parse_known_intermixed_args calls back in here
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def intermixed(parser: argparse.ArgumentParser) -> Any:
    """`parser`, now parsing options and positionals in any order."""
    parser.__class__ = type("Intermixed" + type(parser).__name__, (_Intermixed, type(parser)),
                            {})
    return parser
