"""`jaxgan fid A B`: the Fréchet Inception Distance of two image sets or statistics files.

The verb is a library call a notebook can make too: :func:`jaxgan.metrics.fid.fid`.
Bad input raises :class:`~jaxgan.metrics.errors.MetricsError`; the CLI prints its one line
and exits with status 2.
"""

from __future__ import annotations

import argparse
import json

from jaxgan.metrics.fid import fid


def add_fid_parser(subparsers) -> None:
    """Register ``jaxgan fid A B [--weights FILE] [--json] [--batch-size N]``."""
    p = subparsers.add_parser(
        "fid",
        help="Fréchet Inception Distance between two image sets or statistics files",
        description=(
            "A and B are each a folder of images, an .npz with uint8 NHWC 'images', "
            "or a statistics .npz with 'mu' and 'sigma'."
        ),
    )
    p.add_argument("a", help="folder, images .npz or statistics .npz")
    p.add_argument("b", help="folder, images .npz or statistics .npz")
    p.add_argument(
        "--weights",
        default=None,
        help="Inception weights .pth (default: $JAXGAN_INCEPTION_WEIGHTS, the cache, download)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--batch-size", type=int, default=50, help="images per forward pass")
    p.add_argument(
        "--method",
        choices=("eigh", "sqrtm"),
        default="eigh",
        help="matrix square-root route: eigh (default, exact for few images) or sqrtm "
        "(pytorch-fid's scipy.linalg.sqrtm)",
    )
    p.set_defaults(func=run_fid)


def run_fid(args: argparse.Namespace) -> int:
    """Compute and print the FID; returns the exit status (MetricsError propagates)."""
    value = fid(
        args.a,
        args.b,
        weights=args.weights,
        batch_size=args.batch_size,
        method=getattr(args, "method", "eigh"),
    )
    if args.json:
        print(json.dumps({"fid": value, "a": str(args.a), "b": str(args.b)}))
    else:
        print(f"FID: {value:.6f}")
    return 0
