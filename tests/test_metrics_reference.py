"""The reference rules of Inception Score, precision/recall/density/coverage and KID on the
cases where implementations part ways (issue 15), against second, plain-numpy (or exact
rational) implementations written here, not the code under test.

* IS with N = 4,995 and 10 splits: rows ``[i*N//10, (i+1)*N//10)``, every row counted
  (OpenAI's improved-gan), and torch-fidelity's seeded shuffle.
* Memorized samples (half the fakes exact copies of real rows) and integer-valued features:
  many fakes sit exactly on a k-NN ball's edge, where ``<`` (prdc) and ``<=``
  (Kynkäänniemi et al., torch-fidelity) differ, and a sqrt-and-square round trip of the
  radii lands them on either side by chance.
* KID: the kernel's degree, gamma and coef0; the refusal of a set smaller than a subset.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from jaxgan.metrics import (
    MetricsError,
    compute_prdc,
    density_coverage,
    f_score,
    inception_score,
    kid,
    precision_recall,
)
from jaxgan.metrics.prdc import knn_radii

# ---------------------------------------------------------------- Inception Score


def _is_reference(logits, splits, rule="reference"):
    """OpenAI improved-gan's get_inception_score on float64 softmax; ``rule="drop"`` is the
    old equal-size splits that drop the remainder (to show the case tells them apart)."""
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    n, scores = len(p), []
    for i in range(splits):
        if rule == "drop":
            part = p[i * (n // splits) : (i + 1) * (n // splits)]
        else:
            part = p[(i * n // splits) : ((i + 1) * n // splits)]
        kl = part * (np.log(part) - np.log(np.expand_dims(np.mean(part, 0), 0)))
        scores.append(np.exp(np.mean(np.sum(kl, 1))))
    return np.mean(scores), np.std(scores)


def test_inception_score_counts_every_row_when_n_is_not_a_multiple_of_splits():
    rng = np.random.default_rng(15)
    logits = rng.normal(size=(4995, 1008)) * 2.5
    logits[:, :10] += 6.0 * rng.random((4995, 10))  # a few confident classes, unevenly
    mean, std = _is_reference(logits, 10)
    got = inception_score(logits, splits=10)
    assert got["is"] == pytest.approx(mean, rel=1e-12)
    assert got["is_std"] == pytest.approx(std, rel=1e-9)
    dropped, _ = _is_reference(logits, 10, rule="drop")
    assert abs(dropped - mean) / mean > 1e-5  # the case separates the two rules

    perm = np.random.RandomState(2020).permutation(4995)  # torch-fidelity's default
    mean_s, std_s = _is_reference(logits[perm], 10)
    shuffled = inception_score(logits, splits=10, shuffle=True)
    assert shuffled["is"] == pytest.approx(mean_s, rel=1e-12)
    assert shuffled["is_std"] == pytest.approx(std_s, rel=1e-9)
    assert abs(mean_s - mean) / mean > 1e-6
    other = inception_score(logits, splits=10, shuffle=True, seed=7)
    perm7 = np.random.RandomState(7).permutation(4995)
    assert other["is"] == pytest.approx(_is_reference(logits[perm7], 10)[0], rel=1e-12)
    with pytest.raises(MetricsError, match="positive integer"):
        inception_score(logits, splits=0)


# ---------------------------------------------------- precision/recall/density/coverage


def _sq_direct(a, b):
    """sum((a_i - b_j)²): a copied row goes through exactly the arithmetic of its original."""
    return np.stack([((a - row) ** 2).sum(axis=1) for row in b], axis=1)


def _reference(real, fake, k, strict, round_trip=False):
    """prdc.compute_prdc's rules on squared distances (column 0 of each sorted row is the
    point's own 0, so index k is the k-th nearest other row)."""
    rr, ff, rf = _sq_direct(real, real), _sq_direct(fake, fake), _sq_direct(real, fake)
    r_rad, f_rad = np.sort(rr, axis=1)[:, k], np.sort(ff, axis=1)[:, k]
    if round_trip:  # the old bug: radius = sqrt(squared), compared squared again
        r_rad, f_rad = np.sqrt(r_rad) ** 2, np.sqrt(f_rad) ** 2
    inside = np.less if strict else np.less_equal
    in_real = inside(rf, r_rad[:, None])  # [i, j]: fake j inside real i's ball
    in_fake = inside(rf, f_rad[None, :])  # [i, j]: real i inside fake j's ball
    out = {
        "precision": in_real.any(axis=0).mean(),
        "recall": in_fake.any(axis=1).mean(),
        "density": (1.0 / k) * in_real.sum(axis=0).mean(),
        "coverage": inside(rf.min(axis=1), r_rad).mean(),
    }
    on_edge = int((rf == r_rad[:, None]).sum())
    return {key: float(v) for key, v in out.items()}, on_edge


def _memorized(n=400, d=32, seed=0):
    """float32-valued features (as Inception's); half the fakes copy real rows."""
    rng = np.random.default_rng(seed)
    real = rng.normal(size=(n, d)).astype(np.float32)
    fresh = rng.normal(0.3, 1.0, size=(n // 2, d)).astype(np.float32)
    fake = np.concatenate([real[rng.choice(n, n // 2, replace=False)], fresh])
    return real.astype(np.float64), fake[rng.permutation(n)].astype(np.float64)


def _check_all(real, fake):
    dc_ref, edges = _reference(real, fake, 5, strict=True)
    pr_ref, _ = _reference(real, fake, 3, strict=False)
    assert edges > 0  # fakes exactly on the edge of a real ball
    got = density_coverage(real, fake, k=5)
    assert got == pytest.approx({m: dc_ref[m] for m in ("density", "coverage")}, abs=1e-12)
    got = precision_recall(real, fake, k=3)
    assert got == pytest.approx({m: pr_ref[m] for m in ("precision", "recall")}, abs=1e-12)
    got = compute_prdc(real, fake, nearest_k=5)
    p, r = dc_ref["precision"], dc_ref["recall"]
    assert got == pytest.approx({**dc_ref, "f_score": 2 * p * r / (p + r)}, abs=1e-12)
    return dc_ref, pr_ref


def test_prdc_memorized_copies_follow_the_reference_boundary_rules():
    real, fake = _memorized()
    dc_ref, _ = _check_all(real, fake)
    # the sqrt round trip (the old code) counts edge points on the wrong side here
    trip, _ = _reference(real, fake, 5, strict=True, round_trip=True)
    assert (trip["density"], trip["coverage"]) != (dc_ref["density"], dc_ref["coverage"])
    # the same rules on the rows in another order give the same numbers
    order = np.random.default_rng(1).permutation(len(real))
    again = compute_prdc(real[order], fake[::-1], nearest_k=5)
    assert again == pytest.approx(compute_prdc(real, fake, nearest_k=5), abs=1e-12)


def test_prdc_integer_valued_features():
    rng = np.random.default_rng(5)
    real = rng.integers(0, 4, size=(400, 6)).astype(np.float64)
    fake = rng.integers(0, 4, size=(400, 6)).astype(np.float64)
    _, pr_ref = _check_all(real, fake)
    trip, _ = _reference(real, fake, 3, strict=False, round_trip=True)
    assert (trip["precision"], trip["recall"]) != (pr_ref["precision"], pr_ref["recall"])


def _exact_counts(real, fake, k):
    """Density and coverage (strict) in exact rational arithmetic on the float64 values."""
    fr = lambda x: [[Fraction(float(v)) for v in row] for row in x]
    r, f = fr(real), fr(fake)
    sq = lambda a, b: sum((x - y) ** 2 for x, y in zip(a, b, strict=True))
    radii = [sorted(sq(a, b) for b in r)[k] for a in r]
    rf = [[sq(a, b) for b in f] for a in r]
    density = Fraction(sum(d < radii[i] for i, row in enumerate(rf) for d in row), k * len(f))
    coverage = Fraction(sum(min(row) < radii[i] for i, row in enumerate(rf)), len(r))
    return float(density), float(coverage)


def test_prdc_memorized_copies_match_an_exact_count():
    real, fake = _memorized(n=60, d=4, seed=2)
    ref, edges = _reference(real, fake, 5, strict=True)
    assert edges > 0
    exact = _exact_counts(real, fake, 5)
    assert (ref["density"], ref["coverage"]) == pytest.approx(exact, abs=1e-12)
    got = density_coverage(real, fake, k=5)
    assert (got["density"], got["coverage"]) == pytest.approx(exact, abs=1e-12)


def test_prdc_duplicates_knn_radii_and_f_score():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(30, 3))
    x = np.concatenate([x, x[:5]])  # 5 rows twice: their nearest other row is 0 away
    radii = knn_radii(x, 1)
    assert (radii[:5] == 0).all() and (radii[30:] == 0).all() and (radii[5:30] > 0).all()
    ref = np.sqrt(np.sort(_sq_direct(x, x), axis=1)[:, 3])
    np.testing.assert_allclose(knn_radii(x, 3), ref, rtol=1e-12)
    assert f_score(0.0, 0.0) == 0.0
    assert f_score(0.5, 1.0) == pytest.approx(2 / 3)
    same = compute_prdc(x[:30], x[:30], nearest_k=3)
    assert same["precision"] == same["recall"] == same["f_score"] == same["coverage"] == 1.0
    with pytest.raises(MetricsError, match="positive integer"):
        compute_prdc(x, x, nearest_k=0)
    with pytest.raises(MetricsError, match="NaN"):
        compute_prdc(np.full((10, 3), np.nan), x, nearest_k=3)


# ---------------------------------------------------------------------------- KID


def _mmd2_loops(x, y, degree, gamma, coef0):
    k = lambda u, v: (gamma * float(np.dot(u, v)) + coef0) ** degree
    m = len(x)
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return (xx + yy) / (m * (m - 1)) - 2 * xy / m**2


def test_kid_kernel_options_and_defaults():
    rng = np.random.default_rng(8)
    a, b = rng.normal(size=(14, 5)), rng.normal(0.4, 1.2, size=(12, 5))
    got = kid(a, b, num_subsets=3, subset_size=9, seed=3, degree=2, gamma=0.5, coef0=0.25)
    draw = np.random.default_rng(3)
    vals = []
    for _ in range(3):
        xa, xb = a[draw.choice(14, 9, replace=False)], b[draw.choice(12, 9, replace=False)]
        vals.append(_mmd2_loops(xa, xb, 2, 0.5, 0.25))
    assert got["kid"] == pytest.approx(np.mean(vals), rel=1e-10)
    assert got["kid_std"] == pytest.approx(np.std(vals), rel=1e-8)
    assert got["kid_subset_size"] == 9
    paper = kid(a, b, num_subsets=3, subset_size=9, seed=3, degree=3, gamma=1 / 5, coef0=1.0)
    assert kid(a, b, num_subsets=3, subset_size=9, seed=3) == paper  # defaults: 3, 1/d, 1
    with pytest.raises(MetricsError, match="degree"):
        kid(a, b, degree=0)
    with pytest.raises(MetricsError, match="gamma"):
        kid(a, b, gamma=-1.0)


def test_kid_refuses_a_set_smaller_than_the_subsets_or_says_it_shrank():
    rng = np.random.default_rng(9)
    a, b = rng.normal(size=(15, 4)), rng.normal(size=(10, 4))
    with pytest.raises(MetricsError, match=r"subset_size=12 is larger") as err:
        kid(a, b, subset_size=12, shrink=False)
    assert len(str(err.value).splitlines()) == 1 and "15 and 10" in str(err.value)
    exact = kid(a, b, num_subsets=2, subset_size=10, shrink=False)
    assert exact["kid_subset_size"] == 10 and math.isfinite(exact["kid"])
    shrunk = kid(a, b, num_subsets=2, subset_size=1000)  # the default shrinks, and says so
    assert shrunk["kid_subset_size"] == 10
