"""KID, Inception Score, precision/recall, density/coverage and mode coverage against
brute-force numpy references written here with loops (a different code path)."""

import math

import numpy as np
import pytest

from jaxgan.metrics import (
    MetricsError,
    density_coverage,
    inception_score,
    kid,
    mode_coverage,
    precision_recall,
)
from jaxgan.metrics.kid import mmd2_unbiased


def _k(x, y):
    return (np.dot(x, y) / len(x) + 1.0) ** 3


def _mmd2_loops(x, y):
    m = len(x)
    xx = sum(_k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(_k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(_k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_mmd2_matches_loops():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(12, 5)), rng.normal(0.5, 1, size=(12, 5))
    assert mmd2_unbiased(x, y) == pytest.approx(_mmd2_loops(x, y), rel=1e-10)


def test_kid_subsets_match_loops():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(15, 4)), rng.normal(0.3, 1, size=(10, 4))
    got = kid(a, b, num_subsets=3, subset_size=1000, seed=7)
    draw = np.random.default_rng(7)
    vals = []
    for _ in range(3):  # subset size clipped to the smaller set: 10
        xa = a[draw.choice(15, 10, replace=False)]
        xb = b[draw.choice(10, 10, replace=False)]
        vals.append(_mmd2_loops(xa, xb))
    assert got["kid"] == pytest.approx(np.mean(vals), rel=1e-10)
    assert got["kid_std"] == pytest.approx(np.std(vals), rel=1e-8)
    with pytest.raises(MetricsError, match="at least 2"):
        kid(a[:1], b)


def test_inception_score_matches_loops():
    rng = np.random.default_rng(2)
    logits = rng.normal(size=(23, 7)) * 3
    splits = 4
    scores = []
    for s in range(splits):  # rows [s*N//splits, (s+1)*N//splits): 5, 6, 6 and 6 of the 23
        p = [np.exp(r) / np.exp(r).sum() for r in logits[s * 23 // splits : (s + 1) * 23 // splits]]
        py = np.mean(p, axis=0)
        kls = [sum(pi[c] * math.log(pi[c] / py[c]) for c in range(7)) for pi in p]
        scores.append(math.exp(np.mean(kls)))
    got = inception_score(logits, splits=splits)
    assert got["is"] == pytest.approx(np.mean(scores), rel=1e-10)
    assert got["is_std"] == pytest.approx(np.std(scores), rel=1e-8)
    one_hot = np.eye(10)[np.arange(100) % 10] * 100.0  # each split holds all 10
    assert inception_score(one_hot)["is"] == pytest.approx(10.0, rel=1e-6)
    with pytest.raises(MetricsError, match="at least 10 images"):
        inception_score(logits[:5])


def _radius(x, i, k):
    d = sorted(np.linalg.norm(x[i] - x[j]) for j in range(len(x)) if j != i)
    return d[k - 1]


def _prdc_loops(real, fake, k_pr, k_dc):
    rr = [_radius(real, i, k_pr) for i in range(len(real))]
    fr = [_radius(fake, i, k_pr) for i in range(len(fake))]
    dist = lambda a, b: np.linalg.norm(a - b)
    prec = np.mean([any(dist(f, r) <= rr[i] for i, r in enumerate(real)) for f in fake])
    rec = np.mean([any(dist(r, f) <= fr[j] for j, f in enumerate(fake)) for r in real])
    rd = [_radius(real, i, k_dc) for i in range(len(real))]
    dens = np.mean([sum(dist(f, r) < rd[i] for i, r in enumerate(real)) for f in fake]) / k_dc
    cov = np.mean([min(dist(r, f) for f in fake) < rd[i] for i, r in enumerate(real)])
    return prec, rec, dens, cov


def test_precision_recall_density_coverage_match_loops():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(40, 6))
    fake = rng.normal(0.7, 1.3, size=(30, 6))
    prec, rec, dens, cov = _prdc_loops(real, fake, 3, 5)
    pr = precision_recall(real, fake, k=3)
    dc = density_coverage(real, fake, k=5)
    assert (pr["precision"], pr["recall"]) == pytest.approx((prec, rec), abs=1e-12)
    assert (dc["density"], dc["coverage"]) == pytest.approx((dens, cov), abs=1e-12)
    assert 0 < prec < 1 and 0 < rec < 1 and 0 < cov < 1
    same = precision_recall(real, real, k=3)
    assert same == {"precision": 1.0, "recall": 1.0}
    with pytest.raises(MetricsError, match="at least 6 samples"):
        density_coverage(real[:5], fake)


def _ring(k=8, radius=2.0):
    t = 2 * np.pi * np.arange(k) / k
    return np.stack([radius * np.cos(t), radius * np.sin(t)], 1)


def test_mode_coverage_all_half_one_mode():
    centers, std = _ring(), 0.02
    offsets = np.array([[0.0, 0.0], [0.01, 0.0], [0.0, -0.03], [0.05, 0.0]])  # last one: 2.5 std
    all_modes = np.concatenate([c + offsets for c in centers])
    out = mode_coverage(all_modes, centers, std)
    assert out == {"modes_captured": 8, "high_quality_frac": 1.0, "reverse_kl": 0.0}

    far = np.array([[10.0, 10.0], [0.0, 0.0]])  # never high quality
    half = np.concatenate([c + offsets for c in centers[::2]] + [far])
    out = mode_coverage(half, centers, std)
    assert out["modes_captured"] == 4
    assert out["high_quality_frac"] == pytest.approx(16 / 18)
    assert out["reverse_kl"] == pytest.approx(math.log(2))

    one = centers[3] + offsets
    out = mode_coverage(one, centers, std)
    assert out["modes_captured"] == 1
    assert out["reverse_kl"] == pytest.approx(math.log(8))

    skewed = np.concatenate([centers[0] + offsets, centers[1] + offsets[:1]])  # 4 vs 1 samples
    out = mode_coverage(skewed, centers, std, min_samples=2)
    assert out["modes_captured"] == 1
    q = np.array([0.8, 0.2])
    assert out["reverse_kl"] == pytest.approx(float((q * np.log(q * 8)).sum()))

    out = mode_coverage(far, centers, std)
    assert out["modes_captured"] == 0 and out["high_quality_frac"] == 0
    assert out["reverse_kl"] == math.inf
    with pytest.raises(MetricsError, match="positive std"):
        mode_coverage(one, centers, 0.0)
