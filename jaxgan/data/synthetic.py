"""`random`: a synthetic image source of uniform noise, for benchmarks and smoke tests.

A step-speed measurement or a check that a machine can train at all must not depend on a
dataset download, or on TensorFlow (which an accelerator image may lack): this source needs
only numpy. It is a fixed pool of uniform-noise uint8 images at `data.resolution` and
`data.channels`, drawn once from the seed and served by `ImageSource`, so everything the
trainer relies on (batch `s` a pure function of `(seed, s)`, per-process slices, exact
resume) holds exactly as for real data. It is unlabelled: a class-conditional model then
trains on label 0, which costs the same, and no health classifier is fitted to noise.
"""

from __future__ import annotations

import numpy as np

from jaxgan.data.images import ImageSource
from jaxgan.schema import DataConfig

POOL_IMAGES = 1024  # at most; the pool is also capped at POOL_BYTES
POOL_BYTES = 64 << 20  # 64 MiB of uint8: 1,024 RGB images up to 128x128, 341 at 256x256
MIN_POOL_IMAGES = 64


def pool_size(resolution: int, channels: int) -> int:
    """How many images the pool holds: `POOL_IMAGES`, fewer for large images (the pool
    stays under `POOL_BYTES`), never fewer than `MIN_POOL_IMAGES`."""
    per_image = max(1, resolution * resolution * channels)
    return int(max(MIN_POOL_IMAGES, min(POOL_IMAGES, POOL_BYTES // per_image)))


def random_source(cfg: DataConfig, seed: int) -> ImageSource:
    """Uniform-noise uint8 images of `cfg`'s shape, reproducible from `seed`."""
    n = pool_size(cfg.resolution, cfg.channels)
    rng = np.random.default_rng([seed, 0x5EED])
    images = rng.integers(0, 256, (n, cfg.resolution, cfg.resolution, cfg.channels),
                          dtype=np.uint8)
    return ImageSource(images, None, seed=seed, name=f"random:{n}")


__all__ = ["random_source", "pool_size", "POOL_IMAGES", "POOL_BYTES"]
