"""Cached reference statistics of a dataset.

Why: the real side of FID is the same for every evaluation of a run, and recomputing it for
50,000 images costs minutes. The cache key holds everything the numbers depend on: the
dataset, the split, the resolution the generator produces, the preprocessing, and the
weights file's SHA-256 (random test weights must never be mixed up with the real ones).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from jaxgan.metrics.fid import Statistics, compute_statistics, load_statistics
from jaxgan.metrics.weights import cache_dir, find_weights, sha256_of

PREPROCESSING = "pytorch-fid-bilinear299"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.-]+", "-", str(text)).strip("-") or "none"


def reference_path(
    dataset: str,
    split: str,
    resolution: int,
    weights_sha256: str,
    preprocessing: str = PREPROCESSING,
    folder: str | os.PathLike | None = None,
) -> Path:
    """Where the statistics for this key live (``<cache>/reference/<key>.npz``)."""
    name = "_".join(
        [_slug(dataset), _slug(split), f"{int(resolution)}px", _slug(preprocessing)]
        + [weights_sha256[:12]]
    )
    return Path(folder or cache_dir() / "reference") / f"{name}.npz"


def reference_statistics(
    dataset: str,
    split: str,
    resolution: int,
    images_fn: Callable[[], Iterable[np.ndarray]],
    weights: str | os.PathLike | None = None,
    batch_size: int = 50,
    folder: str | os.PathLike | None = None,
    progress=None,
) -> Statistics:
    """Load the cached statistics for the key, or compute them from ``images_fn()`` and save.

    ``images_fn`` is only called on a cache miss, so a dataset need not be opened at all
    when its statistics are known. With several processes the statistics are computed
    together (each process its share), so all of them must agree on hit or miss: a miss on
    any process (its own disk) is a miss for all, and each one saves the result.
    """
    import jax

    from jaxgan.metrics.distributed import all_processes

    weights_path = find_weights(weights)
    path = reference_path(dataset, split, resolution, sha256_of(weights_path), folder=folder)
    hit = path.is_file()
    if jax.process_count() > 1:
        hit = all_processes(hit)
    if hit:
        return load_statistics(path)
    stats = compute_statistics(
        images_fn(), weights=weights_path, batch_size=batch_size, progress=progress
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{jax.process_index()}.npz")  # processes may share a disk
    stats.save(tmp)
    os.replace(tmp, path)
    return stats
