"""Evaluation: FID, KID, Inception Score, precision/recall, density/coverage, mode coverage.

The Inception-based metrics use pytorch-fid's FID InceptionV3 in Flax
(:mod:`jaxgan.metrics.inception`), loaded from the standard torch weights file without
torch (:mod:`jaxgan.metrics.weights`). Every bad input raises :class:`MetricsError`.
"""

from jaxgan.metrics.errors import MetricsError
from jaxgan.metrics.features import InceptionFeatures
from jaxgan.metrics.fid import (
    RunningStatistics,
    Statistics,
    compute_statistics,
    fid,
    fid_from_stats,
    load_statistics,
    source_statistics,
)
from jaxgan.metrics.inception import FIDInceptionV3
from jaxgan.metrics.inception_score import inception_score
from jaxgan.metrics.kid import kid
from jaxgan.metrics.mode_coverage import mode_coverage
from jaxgan.metrics.prdc import compute_prdc, density_coverage, f_score, precision_recall
from jaxgan.metrics.reference import reference_statistics
from jaxgan.metrics.weights import find_weights, load_params

__all__ = [
    "FIDInceptionV3",
    "InceptionFeatures",
    "MetricsError",
    "RunningStatistics",
    "Statistics",
    "compute_prdc",
    "compute_statistics",
    "density_coverage",
    "f_score",
    "fid",
    "fid_from_stats",
    "find_weights",
    "inception_score",
    "kid",
    "load_params",
    "load_statistics",
    "mode_coverage",
    "precision_recall",
    "reference_statistics",
    "source_statistics",
]
