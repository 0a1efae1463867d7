"""Kernel Inception Distance (Bińkowski et al., 2018).

Why KID next to FID: it is an unbiased estimator (FID is biased for small sample sizes), so
it can compare models evaluated with few images. It follows the reference code of the
paper (and clean-fid / torch-fidelity): the unbiased MMD² with the cubic polynomial kernel
``k(x, y) = (x·y / d + 1)^3``, averaged over random subsets (100 of size 1000 by default,
the size clipped to the smaller set) drawn without replacement.
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError


def polynomial_kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``(x @ y.T / d + 1) ** 3`` in float64."""
    d = x.shape[1]
    return (x @ y.T / d + 1.0) ** 3


def mmd2_unbiased(x: np.ndarray, y: np.ndarray) -> float:
    """Unbiased MMD² of two equal-size samples under :func:`polynomial_kernel`.

    The within-set sums leave out the diagonal (k(x_i, x_i)); the cross term keeps all
    m² pairs, as in the reference estimator.
    """
    m = len(x)
    k_xx = polynomial_kernel(x, x)
    k_yy = polynomial_kernel(y, y)
    k_xy = polynomial_kernel(x, y)
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
) -> dict[str, float]:
    """KID between two feature sets: ``{"kid": mean, "kid_std": std over subsets}``."""
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise MetricsError(
            f"KID features have shapes {a.shape} and {b.shape}; expected (N, d) and (M, d)"
        )
    m = min(len(a), len(b), subset_size)
    if m < 2:
        raise MetricsError(f"KID needs at least 2 samples on each side, got {len(a)}, {len(b)}")
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        xa = a[rng.choice(len(a), m, replace=False)]
        xb = b[rng.choice(len(b), m, replace=False)]
        values[i] = mmd2_unbiased(xa, xb)
    return {"kid": float(values.mean()), "kid_std": float(values.std())}
