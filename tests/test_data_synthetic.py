"""The `random` source: noise of the configured shape, reproducible, served like real data."""

from __future__ import annotations

import numpy as np

from jaxgan.data import make_source
from jaxgan.data.synthetic import POOL_BYTES, POOL_IMAGES, pool_size
from jaxgan.schema import DataConfig


def test_random_source_shape_range_and_determinism():
    cfg = DataConfig(source="random", resolution=8, channels=3)
    a, b = make_source(cfg, seed=3), make_source(cfg, seed=3)
    assert len(a) == POOL_IMAGES and a.images.shape == (POOL_IMAGES, 8, 8, 3)
    x = a.batch(5, 32)
    assert x["image"].shape == (32, 8, 8, 3) and x["image"].dtype == np.float32
    assert x["image"].min() >= -1.0 and x["image"].max() <= 1.0
    # uniform over 0..255 -> mean ~0, std ~0.577 in [-1, 1] (6,144 values: +-0.02)
    assert abs(float(x["image"].mean())) < 0.03
    assert abs(float(x["image"].std()) - 1 / np.sqrt(3)) < 0.02
    np.testing.assert_array_equal(x["image"], b.batch(5, 32)["image"])  # pure in (seed, step)
    assert not np.array_equal(x["image"], a.batch(6, 32)["image"])
    other = make_source(cfg, seed=4).batch(5, 32)["image"]
    assert not np.array_equal(x["image"], other)
    assert (x["label"] == 0).all() and a.labels is None  # unlabelled: no health classifier
    # two processes' halves are the global batch
    halves = [a.batch(5, 32, i, 2)["image"] for i in range(2)]
    np.testing.assert_array_equal(np.concatenate(halves), x["image"])


def test_random_pool_stays_under_its_byte_cap():
    assert pool_size(32, 3) == POOL_IMAGES
    assert pool_size(256, 3) == POOL_BYTES // (256 * 256 * 3) == 341
    assert pool_size(1024, 3) == 64  # never fewer than a batch-sized pool
    src = make_source(DataConfig(source="random", resolution=128, channels=1), seed=0)
    assert src.images.nbytes <= POOL_BYTES and src.resolution == 128 and src.channels == 1
