"""`make_source`: the one entry point from a `DataConfig` to a data source.

Heavy imports (tensorflow through tfds) happen only for the sources that need them, so a
toy run or an .npz run starts without paying for TensorFlow.

Every source is a `Source`: the run assembly (`jaxgan.run`) asks it only `is_toy` and
`batch`, and an on-device source (`is_toy`) also draws samples inside the step. Sources are
declared once with `register_source(name, factory, on_device=...)`: ``data.source=NAME``
is then valid (`config.choices` reads `SOURCES`), `make_source` builds it, and whether its
samples are drawn on device (2-D points, not images) is asked of the registry
(`on_device`), never of the name.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from jaxgan.data.errors import DataError
from jaxgan.data.images import ImageSource, to_resolution
from jaxgan.data.synthetic import random_source
from jaxgan.data.toys import toy_grid, toy_ring
from jaxgan.schema import DataConfig


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


SourceFactory = Callable[[DataConfig, int], Source]  # (cfg.data, seed) -> source


@dataclass(frozen=True)
class SourceSpec:
    """A registered source: its factory, whether it is drawn on device (then
    `data.resolution` and `data.channels` do not apply: its samples are 2-D points), and
    whether it can stream from disk (then `data.stream` applies: `jaxgan.data.stream`)."""

    name: str
    factory: SourceFactory
    on_device: bool = False
    streams: bool = False


SOURCES: dict[str, SourceSpec] = {}


def register_source(name: str, factory: SourceFactory, on_device: bool = False,
                    streams: bool = False) -> SourceSpec:
    """Make ``data.source=NAME`` valid: `factory(cfg.data, seed)` loads the source, raising
    `DataError` with one line for anything the user can fix."""
    spec = SourceSpec(name, factory, on_device, streams)
    SOURCES[name] = spec
    return spec


def on_device(name: str) -> bool:
    """Whether source `name` draws its samples inside the step (the 2-D toys)."""
    spec = SOURCES.get(name)
    return spec is not None and spec.on_device


def can_stream(name: str) -> bool:
    """Whether source `name` can stream from disk (``data.stream=true`` is allowed)."""
    spec = SOURCES.get(name)
    return spec is not None and spec.streams


# What the tfds-backed sources import, by module name and pip package.
TFDS_MODULES = {"tensorflow": "tensorflow-cpu", "tensorflow_datasets": "tensorflow-datasets"}


def require_tfds(source: str) -> None:
    """Raise one `DataError` line naming what is missing when TensorFlow or tfds is not
    installed (an accelerator image may have neither): `source` needs them, the others do
    not. Asks `importlib.util.find_spec`, which imports nothing."""
    missing = [m for m in TFDS_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise DataError(
            f"data.source={source} needs TensorFlow and tensorflow-datasets, and "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not installed: "
            f"pip install {' '.join(TFDS_MODULES[m] for m in missing)} (or train on "
            "data.source=npz, folder, random or a 2-D toy, which need neither)")


def digits_source(cfg: DataConfig, seed: int) -> ImageSource:
    """The embedded sklearn digits via the `jaxgan_digits` tfds builder (no network).

    `cfg.path`, when set, is the tfds data dir to prepare into (default `$JAXGAN_DATA_DIR`
    or `~/.cache/jaxgan/tfds`).
    """
    require_tfds("digits")
    from jaxgan.data.digits import load_digits_arrays

    split = cfg.split or "train"
    if split != "train" and not split.startswith("train["):
        raise DataError(f"data.split={split!r}: jaxgan_digits has only a 'train' split "
                        "(slices like 'train[:90%]' work too)")
    images, labels = load_digits_arrays(cfg.path or None, split)
    images = to_resolution(images, cfg.resolution, cfg.channels)
    return ImageSource(images, labels, 10, seed=seed, name=f"jaxgan_digits:{split}")


def tfds_dataset(cfg: DataConfig, seed: int) -> ImageSource:
    """Any image dataset of the tfds catalog, `cfg.name` (tensorflow imported only here)."""
    if not cfg.name:
        raise DataError("data.name must name a tfds dataset (e.g. mnist) when data.source=tfds")
    require_tfds("tfds")
    from jaxgan.data.tfds_source import tfds_source

    return tfds_source(cfg.name, cfg.split or "train", cfg.resolution, cfg.channels, seed,
                       cfg.path or None)


def _files(kind: str) -> SourceFactory:
    """The `folder` or `npz` source of `cfg.path`."""
    def make(cfg: DataConfig, seed: int) -> ImageSource:
        if not cfg.path:
            raise DataError(f"data.path must point to the {kind} when data.source={kind}")
        from jaxgan.data.files import folder_source, npz_source

        load = folder_source if kind == "folder" else npz_source
        return load(cfg.path, cfg.resolution, cfg.channels, seed)
    return make


def idx_dataset(cfg: DataConfig, seed: int) -> ImageSource:
    """MNIST's IDX files in the folder `cfg.path` (numpy only; `jaxgan.data.idx`)."""
    if not cfg.path:
        raise DataError("data.path must point to a folder of IDX files when data.source=idx")
    from jaxgan.data.idx import idx_source

    return idx_source(cfg.path, cfg.split, cfg.resolution, cfg.channels, seed)


def arrayrecord_dataset(cfg: DataConfig, seed: int) -> Source:
    """A dataset `jaxgan prepare` wrote (ArrayRecord), streamed through Grain or held in
    memory by `cfg.stream` (grain imported only here)."""
    from jaxgan.data.stream import arrayrecord_source

    return arrayrecord_source(cfg, seed)


register_source("digits", digits_source)
register_source("tfds", tfds_dataset)
register_source("folder", _files("folder"))
register_source("npz", _files("npz"))
register_source("idx", idx_dataset)
register_source("arrayrecord", arrayrecord_dataset, streams=True)
register_source("random", random_source)  # uniform noise: benchmarks, no dataset needed
register_source("toy_ring", lambda cfg, seed: toy_ring(seed), on_device=True)
register_source("toy_grid", lambda cfg, seed: toy_grid(seed), on_device=True)


def make_source(cfg: DataConfig, seed: int) -> Source:
    """The data source `cfg.source` names, loaded and ready to serve batches.

    Image sources hold uint8 images at `cfg.resolution` and `cfg.channels`; on-device
    sources ignore both. Every user-fixable problem raises `DataError` with a one-line
    message.
    """
    spec = SOURCES.get(cfg.source)
    if spec is None:
        raise DataError(f"data.source={cfg.source!r} is not allowed; choose one of: "
                        f"{', '.join(SOURCES)}")
    if not spec.on_device:
        if cfg.channels not in (1, 3):
            raise DataError(f"data.channels must be 1 or 3, got {cfg.channels}")
        if cfg.resolution <= 0:
            raise DataError(f"data.resolution must be positive, got {cfg.resolution}")
    return spec.factory(cfg, seed)


__all__ = ["make_source", "digits_source", "tfds_dataset", "SOURCES", "Source",
           "SourceSpec", "register_source", "on_device", "can_stream", "require_tfds"]
