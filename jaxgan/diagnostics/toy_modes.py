"""The live mode count of a 2-D toy run: how many of the mixture's modes the generator's
samples cover, at every log record, for the mode-collapse detector (numpy only; the
samples come from `jaxgan.coverage_probe`: the VEEGAN/PacGAN protocol's 2,500).

Why not the D-feature diversity ratio: it misses a collapse onto a curve that spans the
data, since such a curve is as spread out as the real mixture. Each sample is assigned to
its nearest mode when within a quarter of the smallest distance between modes ("near";
looser than the evaluation's 3 std, which a converging run does not meet yet). Modes are
counted among the near samples only, at every record, however few they are: a mode counts
as captured when it holds at least `MODE_SHARE` of its fair share of the near samples (and
at least `MODE_MIN_SAMPLES`), so an off-mode generator still gets a count, and the share
of samples near no mode is reported beside it (`toy_off_mode`) instead of suppressing it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["mode_count", "MODE_SHARE", "MODE_MIN_SAMPLES"]

MODE_SHARE = 0.2  # of a mode's fair share n_near / K
MODE_MIN_SAMPLES = 2  # one stray sample does not make a mode


def mode_count(samples: np.ndarray, centers: np.ndarray) -> dict[str, Any]:
    """`modes_captured`, `num_modes`, `toy_off_mode` (share of samples near no mode),
    `near_mode_frac` (1 - that) and `toy_near_samples` for
    (N, 2) samples, by the rule in the module's docstring."""
    k = len(centers)
    d = np.linalg.norm(samples[:, None, :] - centers[None], axis=-1)
    gaps = np.linalg.norm(centers[:, None] - centers[None], axis=-1)
    radius = 0.25 * gaps[~np.eye(k, dtype=bool)].min()
    near = np.isfinite(d).all(axis=1) & (d.min(axis=1) < radius)  # NaN samples: near none
    counts = np.bincount(d[near].argmin(axis=1), minlength=k) if near.any() else np.zeros(k)
    need = max(MODE_SHARE * int(near.sum()) / k, MODE_MIN_SAMPLES)
    return {"modes_captured": int((counts >= need).sum()), "num_modes": int(k),
            "toy_off_mode": float(1.0 - near.mean()), "near_mode_frac": float(near.mean()),
            "toy_near_samples": int(near.sum())}
