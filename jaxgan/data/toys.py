"""The 2-D Gaussian mixtures of the mode-collapse literature (VEEGAN, PacGAN, Unrolled GAN).

`toy_ring` is 8 Gaussians (std 0.02) evenly spaced on a circle of radius 2 and `toy_grid` is
25 Gaussians (std 0.05) on the 5x5 grid {-4, -2, 0, 2, 4}^2. Because the true modes are
known, a run can count which modes the generator covers and what fraction of its samples
are "high quality" (within a few std of a center), which is the point of these datasets.

Sampling is cheap, so `sample` is a pure jittable function the train step can call on
device with its own key; `batch` is the host-side numpy twin for code that wants the same
interface as image sources.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.data.errors import DataError


def ring_centers(num_modes: int = 8, radius: float = 2.0) -> np.ndarray:
    """`num_modes` points evenly spaced on a circle, the first at angle 0."""
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def grid_centers(coords: tuple[float, ...] = (-4.0, -2.0, 0.0, 2.0, 4.0)) -> np.ndarray:
    """The Cartesian grid `coords` x `coords`, row-major."""
    xs, ys = np.meshgrid(np.asarray(coords), np.asarray(coords), indexing="ij")
    return np.stack([xs.ravel(), ys.ravel()], axis=1).astype(np.float32)


class ToySource:
    """An equal-weight mixture of isotropic Gaussians in 2-D."""

    is_toy = True
    num_classes = 0

    def __init__(self, centers: np.ndarray, std: float, seed: int = 0, name: str = "") -> None:
        self.centers = np.asarray(centers, dtype=np.float32)
        if self.centers.ndim != 2 or self.centers.shape[1] != 2:
            raise DataError(f"toy centers must be (K, 2), got {self.centers.shape}")
        self.std = float(std)
        self.seed = int(seed)
        self.name = name
        self.labels = None

    @property
    def num_modes(self) -> int:
        return int(self.centers.shape[0])

    def sample(self, key: jax.Array, n: int) -> jax.Array:
        """`n` samples (n, 2) float32; pure and jittable (`n` must be static)."""
        k_mode, k_noise = jax.random.split(key)
        modes = jax.random.randint(k_mode, (n,), 0, self.num_modes)
        noise = jax.random.normal(k_noise, (n, 2), dtype=jnp.float32)
        return jnp.asarray(self.centers)[modes] + jnp.float32(self.std) * noise

    def batch(self, step: int, global_batch: int, process_index: int = 0,
              process_count: int = 1) -> dict[str, np.ndarray]:
        """This process's slice of global batch `step`, drawn from `default_rng([seed, step])`.

        The whole global batch is drawn and then sliced, so N processes together see exactly
        the batch one process would.
        """
        if global_batch <= 0 or global_batch % process_count:
            raise DataError(f"the global batch {global_batch} must be a positive multiple of "
                            f"the process count {process_count}")
        if not 0 <= process_index < process_count:
            raise ValueError(f"process_index {process_index} not in [0, {process_count})")
        rng = np.random.default_rng([self.seed, step])
        modes = rng.integers(0, self.num_modes, size=global_batch)
        noise = rng.standard_normal((global_batch, 2), dtype=np.float32)
        points = self.centers[modes] + np.float32(self.std) * noise
        local = global_batch // process_count
        sl = slice(process_index * local, (process_index + 1) * local)
        return {"image": points[sl], "label": np.zeros(local, np.int32)}

    def nearest_center(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(index, distance) of each point's nearest center, for mode-coverage metrics."""
        points = np.asarray(points, dtype=np.float32)
        d = np.linalg.norm(points[:, None, :] - self.centers[None, :, :], axis=-1)
        idx = np.argmin(d, axis=1)
        return idx, d[np.arange(len(points)), idx]

    def __repr__(self) -> str:
        return f"ToySource({self.name or 'mixture'}: {self.num_modes} modes, std={self.std})"


def toy_ring(seed: int = 0) -> ToySource:
    """8 Gaussians on a ring of radius 2, std 0.02 (VEEGAN's 2D ring)."""
    return ToySource(ring_centers(8, 2.0), 0.02, seed=seed, name="toy_ring")


def toy_grid(seed: int = 0) -> ToySource:
    """25 Gaussians on the 5x5 grid {-4,-2,0,2,4}^2, std 0.05 (VEEGAN/PacGAN's 2D grid)."""
    return ToySource(grid_centers(), 0.05, seed=seed, name="toy_grid")


__all__ = ["ToySource", "toy_ring", "toy_grid", "ring_centers", "grid_centers"]
