"""Mode coverage for the 2-D toy mixtures (rings and grids of Gaussians).

Why: on toys the truth is known, so mode collapse can be counted instead of guessed. This
follows the protocol of VEEGAN (Srivastava et al., 2017) and PacGAN (Lin et al., 2018):

* a sample is *high quality* when it lies within 3 standard deviations of its nearest mode
  centre (and it then belongs to that mode);
* a mode is *captured* when it owns at least ``min_samples`` high-quality samples (default 1;
  PacGAN's stricter variant uses a larger count relative to the number of samples);
* *reverse KL* is ``KL(q || uniform)`` where ``q`` is the histogram of the high-quality
  samples over the modes: 0 when every mode gets the same share, ``log K`` when one mode
  gets everything; infinite when no sample is high quality.
"""

from __future__ import annotations

import numpy as np

from jaxgan.metrics.errors import MetricsError


def mode_coverage(
    samples: np.ndarray,
    centers: np.ndarray,
    std: float,
    min_samples: int = 1,
    num_std: float = 3.0,
) -> dict[str, float | int]:
    """``{"modes_captured", "high_quality_frac", "reverse_kl"}`` for (N, 2) samples."""
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centers, dtype=np.float64)
    if x.ndim != 2 or c.ndim != 2 or x.shape[1] != c.shape[1] or len(x) == 0 or len(c) == 0:
        raise MetricsError(
            f"samples {x.shape} and centers {c.shape}; expected non-empty (N, D) and (K, D)"
        )
    if not std > 0:
        raise MetricsError(f"std is {std}; expected the mixture components' positive std")
    d2 = ((x[:, None, :] - c[None, :, :]) ** 2).sum(-1)
    nearest = d2.argmin(axis=1)
    high_quality = np.sqrt(d2[np.arange(len(x)), nearest]) <= num_std * std
    counts = np.bincount(nearest[high_quality], minlength=len(c))
    total = counts.sum()
    if total == 0:
        reverse_kl = float("inf")
    else:
        q = counts[counts > 0] / total
        reverse_kl = float((q * np.log(q * len(c))).sum())
    return {
        "modes_captured": int((counts >= min_samples).sum()),
        "high_quality_frac": float(high_quality.mean()),
        "reverse_kl": reverse_kl,
    }
