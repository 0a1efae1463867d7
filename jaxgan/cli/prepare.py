"""`jaxgan prepare`: a folder of images, an .npz or a tfds dataset -> the streaming format
(`jaxgan.data.prepare.prepare`), once, so training reads records instead of decoding."""

from __future__ import annotations

import argparse
import sys
from typing import Any

HELP = "convert a folder, .npz or tfds dataset to ArrayRecord files for streaming"


def run_prepare(args: argparse.Namespace) -> int:
    from jaxgan.data.prepare import prepare

    out = prepare(args.kind, args.src, args.out, args.resolution, args.channels,
                  encoding=args.encoding, split=args.split, data_dir=args.data_dir,
                  progress=not args.no_progress)
    print(f"jaxgan: prepared {out}; train on it with data.source=arrayrecord "
          f"data.path={out} data.resolution={args.resolution} data.channels={args.channels}",
          file=sys.stdout)
    return 0


def add_prepare_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("prepare", help=HELP)
    p.add_argument("kind", choices=("folder", "npz", "tfds"), help="what SRC is")
    p.add_argument("src", help="the folder, the .npz file, or the tfds dataset name")
    p.add_argument("--out", required=True, help="the folder to create (never overwritten)")
    p.add_argument("--resolution", type=int, required=True,
                   help="square side in pixels (center crop, antialiased bilinear)")
    p.add_argument("--channels", type=int, default=3, choices=(1, 3))
    p.add_argument("--encoding", default="raw", choices=("raw", "png"),
                   help="raw uint8 (fastest to read) or lossless PNG (smaller)")
    p.add_argument("--split", default="train", help="tfds split")
    p.add_argument("--data-dir", default=None, help="tfds data_dir")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run_prepare)
