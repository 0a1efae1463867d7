"""`make_source`: the one entry point from a `DataConfig` to a data source.

Heavy imports (tensorflow through tfds) happen only for the sources that need them, so a
toy run or an .npz run starts without paying for TensorFlow.

Every source is a `Source`: the run assembly (`jaxgan.run`) asks it only `is_toy` and
`batch`, and an on-device source (`is_toy`) also draws samples inside the step.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, to_resolution
from jaxgan.data.toys import ToySource, toy_grid, toy_ring
from jaxgan.schema import DataConfig

SOURCES = ("digits", "tfds", "folder", "npz", "toy_ring", "toy_grid")


class Source(Protocol):
    """What the run asks of a data source.

    `is_toy`: True for an on-device source, whose real samples the step draws itself with
    ``sample(key, n)`` (the 2-D toys, which also have `centers` and `std`); False for a
    host source, whose ``batch(step, global_batch, process_index, process_count)`` gives
    this process's share of batch `step` as ``{"image": (b, H, W, C) float32 in [-1, 1],
    "label": (b,) int32}``, a pure function of its arguments (exact resume).
    """

    is_toy: bool

    def batch(self, step: int, global_batch: int, process_index: int = 0,
              process_count: int = 1) -> dict[str, np.ndarray]: ...


def digits_source(cfg: DataConfig, seed: int) -> ImageSource:
    """The embedded sklearn digits via the `jaxgan_digits` tfds builder (no network).

    `cfg.path`, when set, is the tfds data dir to prepare into (default `$JAXGAN_DATA_DIR`
    or `~/.cache/jaxgan/tfds`).
    """
    from jaxgan.data.digits import load_digits_arrays

    split = cfg.split or "train"
    if split != "train" and not split.startswith("train["):
        raise DataError(f"data.split={split!r}: jaxgan_digits has only a 'train' split "
                        "(slices like 'train[:90%]' work too)")
    images, labels = load_digits_arrays(cfg.path or None, split)
    images = to_resolution(images, cfg.resolution, cfg.channels)
    return ImageSource(images, labels, 10, seed=seed, name=f"jaxgan_digits:{split}")


def make_source(cfg: DataConfig, seed: int) -> ImageSource | ToySource:
    """The data source `cfg.source` names, loaded and ready to serve batches.

    Image sources hold uint8 images at `cfg.resolution` and `cfg.channels`; toy sources
    ignore both. Every user-fixable problem raises `DataError` with a one-line message.
    """
    source = cfg.source
    if source == "toy_ring":
        return toy_ring(seed)
    if source == "toy_grid":
        return toy_grid(seed)
    if cfg.channels not in (1, 3):
        raise DataError(f"data.channels must be 1 or 3, got {cfg.channels}")
    if cfg.resolution <= 0:
        raise DataError(f"data.resolution must be positive, got {cfg.resolution}")
    if source == "digits":
        return digits_source(cfg, seed)
    if source == "tfds":
        if not cfg.name:
            raise DataError("data.name must name a tfds dataset (e.g. mnist) when "
                            "data.source=tfds")
        from jaxgan.data.tfds_source import tfds_source

        return tfds_source(cfg.name, cfg.split or "train", cfg.resolution, cfg.channels, seed,
                           cfg.path or None)
    if source in ("folder", "npz"):
        if not cfg.path:
            raise DataError(f"data.path must point to the {source} when data.source={source}")
        from jaxgan.data.files import folder_source, npz_source

        make = folder_source if source == "folder" else npz_source
        return make(cfg.path, cfg.resolution, cfg.channels, seed)
    raise DataError(f"data.source={source!r} is not allowed; choose one of: "
                    f"{', '.join(SOURCES)}")


__all__ = ["make_source", "digits_source", "SOURCES", "Source"]
