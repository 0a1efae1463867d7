"""The 2-D Gaussian mixtures: geometry, sample statistics, jit, deterministic host batches."""

import jax
import numpy as np

from jaxgan.config import DataConfig
from jaxgan.data import ToySource, make_source


def test_ring_and_grid_geometry():
    ring = make_source(DataConfig(source="toy_ring"), seed=0)
    assert isinstance(ring, ToySource) and ring.is_toy and ring.num_classes == 0
    assert ring.centers.shape == (8, 2) and ring.centers.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(ring.centers, axis=1), 2.0, rtol=1e-6)
    np.testing.assert_allclose(ring.centers[0], [2.0, 0.0], atol=1e-6)
    assert ring.std == 0.02
    grid = make_source(DataConfig(source="toy_grid"), seed=0)
    assert grid.centers.shape == (25, 2) and grid.std == 0.05
    assert sorted(set(grid.centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    assert len({tuple(c) for c in grid.centers.tolist()}) == 25


def test_samples_sit_near_centers_and_hit_every_mode_under_jit():
    for source in ("toy_ring", "toy_grid"):
        toy = make_source(DataConfig(source=source), seed=0)
        x = jax.jit(toy.sample, static_argnums=1)(jax.random.key(0), 5000)
        assert x.shape == (5000, 2) and x.dtype == np.float32
        idx, dist = toy.nearest_center(np.asarray(x))
        # 2-D Gaussian radius: P(r > k std) = exp(-k^2 / 2), 3.4e-4 for k=4, 1.5e-8 for k=6.
        assert (dist > 4 * toy.std).mean() < 0.002 and dist.max() < 6 * toy.std
        counts = np.bincount(idx, minlength=toy.num_modes)
        assert counts.min() > 5000 / toy.num_modes * 0.7  # all modes, roughly equally
        # The std per axis matches the spec.
        resid = np.asarray(x) - toy.centers[idx]
        np.testing.assert_allclose(resid.std(axis=0), toy.std, rtol=0.1)
        # Pure: the same key gives the same samples, another key others.
        # (eager and jitted may differ in the last ulp: XLA fuses the multiply-add)
        np.testing.assert_allclose(toy.sample(jax.random.key(0), 5000), x, atol=1e-6)
        assert not np.array_equal(toy.sample(jax.random.key(1), 5000), x)


def test_host_batches_are_deterministic_and_process_sliced():
    toy = make_source(DataConfig(source="toy_grid"), seed=7)
    b = toy.batch(3, 16)
    assert b["image"].shape == (16, 2) and b["image"].dtype == np.float32
    np.testing.assert_array_equal(b["label"], np.zeros(16, np.int32))
    np.testing.assert_array_equal(make_source(DataConfig(source="toy_grid"), 7).batch(3, 16)
                                  ["image"], b["image"])
    assert not np.array_equal(toy.batch(4, 16)["image"], b["image"])
    parts = [toy.batch(3, 16, i, 2)["image"] for i in range(2)]
    np.testing.assert_array_equal(np.concatenate(parts), b["image"])
    _, dist = toy.nearest_center(b["image"])
    assert dist.max() < 6 * toy.std
