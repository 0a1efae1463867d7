"""Kernel Inception Distance (Bińkowski et al., 2018).

Why KID next to FID: it is an unbiased estimator (FID is biased for small sample sizes), so
it can compare models evaluated with few images. It follows the reference code of the
paper (and clean-fid / torch-fidelity): the unbiased MMD² with the polynomial kernel
``k(x, y) = (gamma x·y + coef0)^degree``, by default the paper's cubic one (degree 3,
gamma 1/d, coef0 1), averaged over random subsets (100 of size 1000 by default) drawn
without replacement; everything in float64.

Why the subset-size guard: KID values from different subset sizes are not comparable
(its variance, and with it the std reported, depends on the size). When a set is smaller
than ``subset_size``, ``shrink=False`` refuses in one line as torch-fidelity does; the
default ``shrink=True`` uses the smaller set's size, and the result always says which size
was used (``kid_subset_size``), so a shrunk value is never silent.
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError


def polynomial_kernel(
    x: np.ndarray,
    y: np.ndarray,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> np.ndarray:
    """``(gamma * x @ y.T + coef0) ** degree`` in float64; ``gamma`` defaults to ``1/d``."""
    if gamma is None:
        gamma = 1.0 / x.shape[1]
    return (x @ y.T * gamma + coef0) ** degree


def mmd2_unbiased(
    x: np.ndarray,
    y: np.ndarray,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
) -> float:
    """Unbiased MMD² of two equal-size samples under :func:`polynomial_kernel`.

    The within-set sums leave out the diagonal (k(x_i, x_i)); the cross term keeps all
    m² pairs, as in the reference estimator.
    """
    m = len(x)
    k_xx = polynomial_kernel(x, x, degree, gamma, coef0)
    k_yy = polynomial_kernel(y, y, degree, gamma, coef0)
    k_xy = polynomial_kernel(x, y, degree, gamma, coef0)
    sum_xx = k_xx.sum() - np.trace(k_xx)
    sum_yy = k_yy.sum() - np.trace(k_yy)
    return float((sum_xx + sum_yy) / (m * (m - 1)) - 2.0 * k_xy.sum() / (m * m))


def kid(
    features_a: np.ndarray,
    features_b: np.ndarray,
    num_subsets: int = 100,
    subset_size: int = 1000,
    seed: int = 0,
    *,
    degree: int = 3,
    gamma: float | None = None,
    coef0: float = 1.0,
    shrink: bool = True,
) -> dict[str, float]:
    """KID between two feature sets.

    Returns ``{"kid": mean, "kid_std": std over subsets, "kid_subset_size": size used}``.
    A set smaller than ``subset_size`` shrinks the subsets to its size (``shrink=True``)
    or raises :class:`MetricsError` (``shrink=False``, as torch-fidelity).
    """
    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise MetricsError(
            f"KID features have shapes {a.shape} and {b.shape}; expected (N, d) and (M, d)"
        )
    if int(num_subsets) != num_subsets or num_subsets < 1:
        raise MetricsError(f"KID num_subsets must be a positive integer, got {num_subsets}")
    if int(degree) != degree or degree < 1:
        raise MetricsError(f"KID kernel degree must be a positive integer, got {degree}")
    if gamma is not None and not gamma > 0:
        raise MetricsError(f"KID kernel gamma must be positive (or None for 1/d), got {gamma}")
    smaller = min(len(a), len(b))
    if smaller < subset_size and not shrink:
        raise MetricsError(
            f"KID subset_size={subset_size} is larger than the sets ({len(a)} and {len(b)} "
            f"samples); pass subset_size <= {smaller} or shrink=True"
        )
    m = min(smaller, subset_size)
    if m < 2:
        raise MetricsError(f"KID needs at least 2 samples on each side, got {len(a)}, {len(b)}")
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for i in range(num_subsets):
        xa = a[rng.choice(len(a), m, replace=False)]
        xb = b[rng.choice(len(b), m, replace=False)]
        values[i] = mmd2_unbiased(xa, xb, int(degree), gamma, coef0)
    return {"kid": float(values.mean()), "kid_std": float(values.std()), "kid_subset_size": m}
