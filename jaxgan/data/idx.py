"""The IDX files MNIST ships in (``train-images-idx3-ubyte[.gz]`` and its labels file).

`data.source=idx data.path=DIR` reads them with numpy alone: no TensorFlow, no network.
That is how the presets train on the original MNIST files (e.g. the 10,000-image test set
in `../shared/data/mnist`, or the 60,000-image training set downloaded by hand). The
split picks the file prefix (`train` -> ``train-*``, `test` -> ``t10k-*``); with no
split, a folder holding one images file uses it. The labels file beside it, when there,
gives the labels (10 classes for MNIST).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, to_resolution

PREFIX = {"train": "train", "test": "t10k", "t10k": "t10k"}


def read_idx(path: Path) -> np.ndarray:
    """One IDX file (gzipped or not) as a uint8 array of the shape its header gives."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise DataError(f"data.path: {path} cannot be read ({e})") from None
    if len(raw) < 4 or raw[0] or raw[1] or raw[2] != 0x08 or not 1 <= raw[3] <= 4:
        raise DataError(f"data.path: {path} is not an IDX file of unsigned bytes (magic "
                        f"{raw[:4].hex() or 'missing'}, expected 000008NN)")
    ndim = raw[3]
    if len(raw) < 4 + 4 * ndim:
        raise DataError(f"data.path: {path} ends inside its header ({len(raw)} bytes for "
                        f"{ndim} dimensions)")
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(raw, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataError(f"data.path: {path} holds {body.size} bytes after its header, "
                        f"expected {int(np.prod(shape))} for shape {shape}")
    return body.reshape(shape)


def find_images(path: str, split: str) -> Path:
    """The images file of `split` in folder `path` (or `path` itself when a file)."""
    p = Path(path).expanduser()
    if p.is_file():
        return p
    if not p.is_dir():
        raise DataError(f"data.path={path!r} does not exist (expected a folder of IDX files "
                        "or one images-idx3-ubyte file)")
    found = sorted(p.glob("*images-idx3-ubyte*"))
    base = split
    if "[" in base:
        raise DataError(f"data.split={split!r}: the IDX source takes 'train' or 'test', "
                        "without a slice")
    if base:
        if base not in PREFIX:
            raise DataError(f"data.split={split!r}: the IDX source knows 'train' and 'test'")
        found = [f for f in found if f.name.startswith(PREFIX[base])]
    if len(found) != 1:
        raise DataError(f"data.path={path!r}: {len(found)} images-idx3-ubyte files"
                        f"{' for split ' + repr(base) if base else ''} "
                        f"({', '.join(f.name for f in found) or 'none'}); name one by "
                        "data.split=train or test, or point data.path at the file")
    return found[0]


def idx_source(path: str, split: str, resolution: int, channels: int,
               seed: int) -> ImageSource:
    images_file = find_images(path, split)
    images = read_idx(images_file)
    if images.ndim != 3:
        raise DataError(f"data.path: {images_file} has shape {images.shape}, expected "
                        "N x H x W images")
    labels_file = images_file.with_name(images_file.name.replace("images-idx3",
                                                                 "labels-idx1"))
    labels, classes = None, 0
    if labels_file.exists():
        labels = read_idx(labels_file).astype(np.int32)
        if labels.shape != (len(images),):
            raise DataError(f"data.path: {labels_file} holds {labels.shape} labels for "
                            f"{len(images)} images")
        classes = int(labels.max()) + 1
    images = to_resolution(images[..., None], resolution, channels)
    return ImageSource(images, labels, classes, seed=seed, name=f"idx:{images_file}")


__all__ = ["idx_source", "read_idx", "find_images"]
