"""Fréchet Inception Distance: the distance (statistics: `stats.py`; inputs: `inputs.py`).

Why float64 on the host: the covariance of 2048-d features summed over 50,000 images loses
digits in float32, and FID is a small difference of large traces. Batches are merged with
Chan's parallel update (mean and centred scatter), so the memory is O(d^2) however many
images stream past.

The distance needs ``tr sqrt(S1 S2)``. ``S1 S2`` is not symmetric, so its square root is not
an ``eigvalsh`` away. Two correct routes are offered: ``method="sqrtm"`` follows
pytorch-fid exactly (``scipy.linalg.sqrtm`` of the product, an ``eps * I`` offset when the
result is not finite, the real part when the imaginary part is negligible); the default
``method="eigh"`` factors ``S1 = F F^T`` and sums the square roots of the eigenvalues of the
symmetric ``F^T S2 F``, which are those of ``S1 S2``. It is several times faster than the
Schur square root and, unlike it, exact for rank-deficient covariances (fewer images than
dimensions), where the FID of a set with itself comes out 0 instead of a round-off residue.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import scipy.linalg

from jaxgan.metrics.errors import MetricsError
from jaxgan.metrics.inputs import (  # noqa: F401  (re-exported: fid.iter_folder, ...)
    _is_stats_npz,
    check_source,
    iter_folder,
    iter_source,
    load_images_npz,
    load_statistics,
)
from jaxgan.metrics.stats import RunningStatistics, Statistics  # noqa: F401  (re-exported)


def _psd_factor(sigma: np.ndarray) -> np.ndarray:
    """``F`` with ``F @ F.T == sigma``, leaving out directions of numerically zero variance.

    Dropping eigenvalues below ``d * eps * max`` (round-off, e.g. every direction beyond
    n - 1 when n < d) keeps their noise out of the square root and shrinks the next step.
    """
    vals, vecs = np.linalg.eigh(sigma)
    keep = vals > len(vals) * np.finfo(np.float64).eps * max(vals.max(), 0.0)
    return vecs[:, keep] * np.sqrt(vals[keep])


def trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str = "eigh") -> float:
    """``tr sqrt(sigma1 @ sigma2)`` for covariance matrices, in float64.

    BLAS runs single-threaded here: a 2048 x 2048 eigendecomposition takes ~2 s on one core,
    while on a shared or busy machine a multi-threaded one was measured 3-4x slower.
    """
    with _single_threaded_blas():
        return _trace_sqrt_product(sigma1, sigma2, method)


def _single_threaded_blas():
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional (it comes with scikit-learn): only speed is at stake
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray, method: str) -> float:
    s1 = np.asarray(sigma1, dtype=np.float64)
    s2 = np.asarray(sigma2, dtype=np.float64)
    if method == "eigh":
        # S1 S2 = F F^T S2 has the eigenvalues of the symmetric PSD F^T S2 F.
        f = _psd_factor(s1)
        vals = np.linalg.eigvalsh(f.T @ s2 @ f) if f.shape[1] else np.zeros(0)
        return float(np.sqrt(np.clip(vals, 0.0, None)).sum())
    if method == "sqrtm":
        covmean = scipy.linalg.sqrtm(s1 @ s2)
        if not np.isfinite(covmean).all():
            offset = np.eye(len(s1)) * 1e-6
            covmean = scipy.linalg.sqrtm((s1 + offset) @ (s2 + offset))
        if np.iscomplexobj(covmean):
            imag = np.max(np.abs(np.diagonal(covmean).imag))
            if imag > 1e-3:
                raise MetricsError(
                    f"sqrtm of the covariance product has imaginary part {imag:.3g}; "
                    "the statistics are ill-conditioned: use more images"
                )
            covmean = covmean.real
        return float(np.trace(covmean))
    raise MetricsError(f"unknown FID method {method!r}; expected 'eigh' or 'sqrtm'")


def fid_from_stats(
    mu1: np.ndarray,
    sigma1: np.ndarray,
    mu2: np.ndarray,
    sigma2: np.ndarray,
    method: str = "eigh",
) -> float:
    """``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr sqrt(S1 S2)`` in float64."""
    mu1, mu2 = np.atleast_1d(np.float64(mu1)), np.atleast_1d(np.float64(mu2))
    s1, s2 = np.atleast_2d(np.float64(sigma1)), np.atleast_2d(np.float64(sigma2))
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != mu1.shape * 2:
        raise MetricsError(
            f"statistics do not match: mu {mu1.shape} vs {mu2.shape}, sigma {s1.shape} vs "
            f"{s2.shape}; both sides need the same feature dimension d (mu (d,), sigma (d, d))"
        )
    if not (np.isfinite(s1).all() and np.isfinite(s2).all()):
        raise MetricsError("statistics contain NaN or infinity; recompute them")
    diff = mu1 - mu2
    tr_covmean = trace_sqrt_product(s1, s2, method)
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * tr_covmean)


def compute_statistics(
    images: Iterable[np.ndarray],
    extractor: Callable | None = None,
    weights: str | os.PathLike | None = None,
    batch_size: int = 50,
    progress=None,
    distributed: bool | None = None,
) -> Statistics:
    """Stream uint8 images (HWC images or NHWC batches) through Inception into statistics.

    With several JAX processes (``distributed`` None means ``jax.process_count() > 1``),
    every process must call this with the same stream: each extracts only its share and
    the statistics are merged across processes (:mod:`jaxgan.metrics.distributed`).
    ``progress`` is a tqdm-like bar advanced by the images this process extracts.
    """
    import jax

    from jaxgan.metrics.distributed import combine_statistics, process_share
    from jaxgan.metrics.features import InceptionFeatures

    if distributed is None:
        distributed = jax.process_count() > 1
    extractor = extractor or InceptionFeatures(weights, batch_size=batch_size)
    running = RunningStatistics()
    stream = process_share(images) if distributed else images
    for pool3, _ in extractor.batches(stream, with_logits=False, progress=progress):
        running.update(pool3)
    if distributed:
        running = combine_statistics(running)
    return running.result()


def source_statistics(
    spec: str | os.PathLike, extractor: Callable | None = None, **kwargs
) -> Statistics:
    """Statistics of a folder, an images .npz, or a statistics .npz (returned as stored)."""
    path = Path(spec)
    if path.suffix == ".npz" and path.is_file() and _is_stats_npz(path):
        return load_statistics(path)
    return compute_statistics(iter_source(path), extractor=extractor, **kwargs)


def fid(
    a: str | os.PathLike,
    b: str | os.PathLike,
    weights: str | os.PathLike | None = None,
    batch_size: int = 50,
    method: str = "eigh",
) -> float:
    """FID between two sources (folders, images .npz or statistics .npz).

    Both sources are checked before the weights are looked for, so a bad input is named as
    such and nothing is computed for one side when the other is unusable.
    """
    check_source(a)
    check_source(b)
    extractor = None
    needs_net = any(
        not (Path(s).suffix == ".npz" and Path(s).is_file() and _is_stats_npz(Path(s)))
        for s in (a, b)
    )
    if needs_net:
        from jaxgan.metrics.features import InceptionFeatures

        extractor = InceptionFeatures(weights, batch_size=batch_size)
    sa = source_statistics(a, extractor)
    sb = source_statistics(b, extractor)
    return fid_from_stats(sa.mu, sa.sigma, sb.mu, sb.sigma, method=method)
