"""Inception Score (Salimans et al., 2016).

Why the details: IS is notoriously sensitive to them. This follows the reference code: the
softmax of the 1008 logits (pool3 times the softmax weights, no bias; see
:mod:`jaxgan.metrics.inception`), ``splits`` consecutive splits with rows
``[i*N//splits, (i+1)*N//splits)`` (so every row counts when N is not a multiple of
``splits``; the splits then differ in size by one), and per split
``exp(mean_i KL(p(y|x_i) || p(y)))``; the result is the mean and (population) std over
splits, in float64.

Which reference each setting reproduces: ``shuffle=False`` (the default) is OpenAI's
improved-gan ``get_inception_score`` (rows in the order given); ``shuffle=True`` with
``seed=2020`` is torch-fidelity's default (``samples_shuffle=True, rng_seed=2020``: rows
permuted by ``np.random.RandomState(seed).permutation(N)`` before splitting).
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=1, keepdims=True))


def inception_score(
    logits: np.ndarray, splits: int = 10, shuffle: bool = False, seed: int = 2020
) -> dict[str, float]:
    """``{"is": mean, "is_std": std}`` over ``splits`` splits of the samples' logits.

    ``shuffle`` permutes the rows first with ``np.random.RandomState(seed)`` (torch-fidelity);
    without it the rows split in the order given (OpenAI's improved-gan).
    """
    x = np.asarray(logits, dtype=np.float64)
    if x.ndim != 2:
        raise MetricsError(f"logits have shape {x.shape}; expected (N, classes)")
    if int(splits) != splits or splits < 1:
        raise MetricsError(f"Inception Score splits must be a positive integer, got {splits}")
    n = len(x)
    if n < splits:
        raise MetricsError(
            f"Inception Score with {splits} splits needs at least {splits} images, got {n}"
        )
    if not np.isfinite(x).all():
        raise MetricsError("Inception Score logits hold NaN or infinite values")
    if shuffle:
        x = x[np.random.RandomState(seed).permutation(n)]
    log_p = _log_softmax(x)
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        part, log_part = p[lo:hi], log_p[lo:hi]
        with np.errstate(divide="ignore", invalid="ignore"):  # a class absent from a split
            log_py = np.log(part.mean(axis=0, keepdims=True))
            kl = np.where(part > 0, part * (log_part - log_py), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return {"is": float(np.mean(scores)), "is_std": float(np.std(scores))}
