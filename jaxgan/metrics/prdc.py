"""Improved precision/recall and density/coverage of generated vs. real features.

Why both: FID folds fidelity and diversity into one number; these separate them.
Precision/recall (Kynkäänniemi et al., 2019, k=3): a sample is "in" a set's manifold when it
lies inside the k-NN ball (radius = distance to its k-th nearest neighbour, itself excluded)
of at least one of that set's points, balls inclusive (``<=``) as in the reference.
Density/coverage (Naeem et al., 2020, k=5): density counts how many real balls hold each
fake sample (divided by k, so it can exceed 1); coverage is the share of real points whose
ball holds at least one fake sample; balls exclusive (``<``) as in the reference.

Distances are computed in float64 in row blocks, so memory stays O(block * N).
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError

_BLOCK = 1024


def _check(real: np.ndarray, fake: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.asarray(real, dtype=np.float64)
    f = np.asarray(fake, dtype=np.float64)
    if r.ndim != 2 or f.ndim != 2 or r.shape[1] != f.shape[1]:
        raise MetricsError(f"features have shapes {r.shape} and {f.shape}; expected (N, d), (M, d)")
    if min(len(r), len(f)) < k + 1:
        raise MetricsError(
            f"k={k} nearest neighbours need at least {k + 1} samples per set, "
            f"got {len(r)} real and {len(f)} fake"
        )
    return r, f


def _sq_dists(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


def knn_radii(x: np.ndarray, k: int) -> np.ndarray:
    """Distance of each row to its k-th nearest other row."""
    radii = np.empty(len(x))
    for i in range(0, len(x), _BLOCK):
        d = _sq_dists(x[i : i + _BLOCK], x)
        rows = np.arange(d.shape[0])
        d[rows, rows + i] = np.inf  # exclude the point itself
        radii[i : i + _BLOCK] = np.partition(d, k - 1, axis=1)[:, k - 1]
    return np.sqrt(radii)


def _ball_counts(points: np.ndarray, centres: np.ndarray, radii: np.ndarray, strict: bool):
    """For each point, how many balls (centre, radius) contain it."""
    counts = np.zeros(len(points), dtype=np.int64)
    r2 = radii**2
    for i in range(0, len(centres), _BLOCK):
        d = _sq_dists(centres[i : i + _BLOCK], points)
        inside = d < r2[i : i + _BLOCK, None] if strict else d <= r2[i : i + _BLOCK, None]
        counts += inside.sum(axis=0)
    return counts


def precision_recall(real: np.ndarray, fake: np.ndarray, k: int = 3) -> dict[str, float]:
    """``{"precision", "recall"}`` with k-NN manifolds of each set."""
    r, f = _check(real, fake, k)
    precision = (_ball_counts(f, r, knn_radii(r, k), strict=False) > 0).mean()
    recall = (_ball_counts(r, f, knn_radii(f, k), strict=False) > 0).mean()
    return {"precision": float(precision), "recall": float(recall)}


def density_coverage(real: np.ndarray, fake: np.ndarray, k: int = 5) -> dict[str, float]:
    """``{"density", "coverage"}`` with k-NN balls around the real samples."""
    r, f = _check(real, fake, k)
    radii = knn_radii(r, k)
    density = _ball_counts(f, r, radii, strict=True).sum() / (k * len(f))
    covered = np.zeros(len(r), dtype=bool)
    for i in range(0, len(r), _BLOCK):
        nearest = _sq_dists(r[i : i + _BLOCK], f).min(axis=1)
        covered[i : i + _BLOCK] = nearest < radii[i : i + _BLOCK] ** 2
    return {"density": float(density), "coverage": float(covered.mean())}
