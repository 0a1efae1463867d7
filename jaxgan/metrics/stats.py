"""Streaming feature statistics: mean and covariance in float64, merged batch by batch.

Why float64 on the host: the covariance of 2048-d features summed over 50,000 images loses
digits in float32, and FID is a small difference of large traces. Batches are merged with
Chan's parallel update (mean and centred scatter), so the memory is O(d^2) however many
images stream past, and the statistics of several processes merge the same way
(`jaxgan.metrics.distributed.combine_statistics`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from jaxgan.metrics.errors import MetricsError

__all__ = ["Statistics", "RunningStatistics"]


@dataclass(frozen=True)
class Statistics:
    """Mean and covariance (float64) of ``n`` feature vectors."""

    mu: np.ndarray
    sigma: np.ndarray
    n: int

    def save(self, path: str | os.PathLike) -> None:
        np.savez(path, mu=self.mu, sigma=self.sigma, n=np.int64(self.n))


class RunningStatistics:
    """Mean and covariance accumulated batch by batch in float64 (Chan et al.'s merge)."""

    def __init__(self, dim: int | None = None):
        self.n = 0
        self.mean = None if dim is None else np.zeros(dim)
        self.scatter = None if dim is None else np.zeros((dim, dim))

    def update(self, features: np.ndarray) -> None:
        x = np.asarray(features, dtype=np.float64)
        if x.ndim != 2 or len(x) == 0:
            return
        mb = x.mean(axis=0)
        xc = x - mb
        self.merge(len(x), mb, xc.T @ xc)

    def merge(self, nb: int, mb: np.ndarray, sb: np.ndarray) -> None:
        """Add ``nb`` vectors given by their mean and scatter (another batch or process)."""
        if nb == 0:
            return
        if self.n == 0:
            self.n, self.mean, self.scatter = nb, mb, sb
            return
        n = self.n + nb
        delta = mb - self.mean
        self.mean = self.mean + delta * (nb / n)
        self.scatter = self.scatter + sb + np.outer(delta, delta) * (self.n * nb / n)
        self.n = n

    def result(self) -> Statistics:
        if self.n < 2:
            raise MetricsError(
                f"FID statistics need at least 2 images, got {self.n}; give more images"
            )
        return Statistics(self.mean, self.scatter / (self.n - 1), self.n)
