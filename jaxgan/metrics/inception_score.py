"""Inception Score (Salimans et al., 2016).

Why the details: IS is notoriously sensitive to them. This follows the reference code: the
softmax of the 1008 logits (pool3 times the softmax weights, no bias; see
:mod:`jaxgan.metrics.inception`), 10 consecutive equal splits (the remainder dropped), and
per split ``exp(mean_i KL(p(y|x_i) || p(y)))``; the result is the mean and std over splits.
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def inception_score(logits: np.ndarray, splits: int = 10) -> dict[str, float]:
    """``{"is": mean, "is_std": std}`` over ``splits`` splits of the samples' logits."""
    x = np.asarray(logits, dtype=np.float64)
    if x.ndim != 2:
        raise MetricsError(f"logits have shape {x.shape}; expected (N, classes)")
    if len(x) < splits:
        raise MetricsError(
            f"Inception Score with {splits} splits needs at least {splits} images, got {len(x)}"
        )
    p = _softmax(x)
    size = len(p) // splits
    scores = []
    for k in range(splits):
        part = p[k * size : (k + 1) * size]
        py = part.mean(axis=0, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            kl = np.where(part > 0, part * (np.log(part) - np.log(py)), 0.0).sum(axis=1)
        scores.append(np.exp(kl.mean()))
    return {"is": float(np.mean(scores)), "is_std": float(np.std(scores))}
