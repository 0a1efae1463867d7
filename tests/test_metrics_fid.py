"""FID statistics and distance against direct numpy/scipy formulas; FID input errors."""

import numpy as np
import pytest
import scipy.linalg
from PIL import Image

from jaxgan.metrics import MetricsError, RunningStatistics, fid, fid_from_stats
from jaxgan.metrics.fid import (
    iter_source,
    load_images_npz,
    load_statistics,
    source_statistics,
    trace_sqrt_product,
)


def _gaussian(rng, n, d, shift=0.0):
    a = rng.normal(size=(d, d)) / np.sqrt(d)
    return rng.normal(size=(n, d)) @ a + shift


def _direct_fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return ((mu1 - mu2) ** 2).sum() + np.trace(s1 + s2 - 2 * covmean)


def test_running_statistics_match_numpy_over_uneven_batches():
    rng = np.random.default_rng(0)
    x = _gaussian(rng, 203, 16, shift=5.0).astype(np.float32)
    running = RunningStatistics()
    for lo, hi in [(0, 1), (1, 50), (50, 51), (51, 203)]:
        running.update(x[lo:hi])
    stats = running.result()
    assert stats.n == 203
    np.testing.assert_allclose(stats.mu, x.astype(np.float64).mean(0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(stats.sigma, np.cov(x.astype(np.float64), rowvar=False), atol=1e-12)


@pytest.mark.parametrize("method", ["eigh", "sqrtm"])
def test_fid_matches_direct_formula(method):
    rng = np.random.default_rng(1)
    x, y = _gaussian(rng, 500, 32), _gaussian(rng, 400, 32, shift=0.3)
    rx, ry = RunningStatistics(), RunningStatistics()
    rx.update(x)
    ry.update(y)
    sx, sy = rx.result(), ry.result()
    value = fid_from_stats(sx.mu, sx.sigma, sy.mu, sy.sigma, method=method)
    expected = _direct_fid(x, y)
    assert expected > 1.0
    assert value == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n", [8, 300])  # rank-deficient (n < d) and full-rank covariances
def test_fid_of_a_set_with_itself_is_zero(n):
    rng = np.random.default_rng(2)
    r = RunningStatistics()
    r.update(_gaussian(rng, n, 64) * 10)
    s = r.result()
    assert abs(fid_from_stats(s.mu, s.sigma, s.mu, s.sigma)) < 1e-6


def test_trace_sqrt_of_non_symmetric_product_is_not_eigvalsh():
    rng = np.random.default_rng(3)
    s1 = np.cov(_gaussian(rng, 100, 5), rowvar=False)
    s2 = np.cov(_gaussian(rng, 100, 5) * 3, rowvar=False)
    expected = np.sqrt(np.linalg.eigvals(s1 @ s2).real).sum()
    assert trace_sqrt_product(s1, s2, "eigh") == pytest.approx(expected, rel=1e-10)
    assert trace_sqrt_product(s1, s2, "sqrtm") == pytest.approx(expected, rel=1e-10)


def test_statistics_errors():
    r = RunningStatistics()
    r.update(np.zeros((1, 4)))
    with pytest.raises(MetricsError, match="at least 2 images"):
        r.result()
    with pytest.raises(MetricsError, match="feature dimension"):
        fid_from_stats(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))
    with pytest.raises(MetricsError, match="NaN"):
        fid_from_stats(np.zeros(2), np.full((2, 2), np.nan), np.zeros(2), np.eye(2))


def test_source_errors(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MetricsError, match="no images found"):
        list(iter_source(empty))
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "x.png").write_bytes(b"not a png")
    with pytest.raises(MetricsError, match="not a readable image"):
        list(iter_source(bad))
    np.savez(tmp_path / "keys.npz", pictures=np.zeros((2, 4, 4, 3), np.uint8))
    with pytest.raises(MetricsError, match="expected 'images'"):
        load_images_npz(tmp_path / "keys.npz")
    np.savez(tmp_path / "dtype.npz", images=np.zeros((2, 4, 4, 3), np.float32))
    with pytest.raises(MetricsError, match="expected uint8"):
        load_images_npz(tmp_path / "dtype.npz")
    np.savez(tmp_path / "stats.npz", mu=np.zeros(3), sigma=np.eye(2))
    with pytest.raises(MetricsError, match=r"expected \(d,\) and \(d, d\)"):
        load_statistics(tmp_path / "stats.npz")
    with pytest.raises(MetricsError, match="not found or not supported"):
        iter_source(tmp_path / "missing")


def test_fid_checks_both_inputs_before_the_weights(tmp_path, monkeypatch):
    """A bad A or B is named as such even when the weights are missing too (they used to be
    looked up first, so a missing folder was reported as missing weights)."""
    from jaxgan.metrics import weights

    def no_weights(*args, **kwargs):
        raise AssertionError("weights looked up before the inputs were checked")

    monkeypatch.setattr(weights, "find_weights", no_weights)
    monkeypatch.setattr(weights, "load_params", no_weights)
    np.savez(tmp_path / "images.npz", images=np.zeros((4, 8, 8, 3), np.uint8))
    np.savez(tmp_path / "float.npz", images=np.zeros((4, 8, 8, 3), np.float32))
    np.savez(tmp_path / "flat.npz", images=np.zeros((0, 8, 8, 3), np.uint8))
    np.savez(tmp_path / "keys.npz", pictures=np.zeros(3))
    (tmp_path / "empty").mkdir()
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    good = tmp_path / "images.npz"
    cases = [
        (tmp_path / "missing", good, "missing: not found or not supported"),
        (good, tmp_path / "missing", "missing: not found or not supported"),
        (good, tmp_path / "empty", "empty: no images found"),
        (tmp_path / "float.npz", good, "'images' has dtype float32; expected uint8"),
        (good, tmp_path / "flat.npz", "has shape (0, 8, 8, 3); expected a non-empty"),
        (tmp_path / "keys.npz", good, "has keys ['pictures']; expected 'images'"),
        (good, tmp_path / "junk.npz", "junk.npz: not a readable .npz"),
    ]
    for a, b, message in cases:
        with pytest.raises(MetricsError) as info:
            fid(a, b, weights=tmp_path / "no.pth")
        assert message in str(info.value) and "\n" not in str(info.value)


def test_error_messages_are_one_line(tmp_path):
    with pytest.raises(MetricsError) as info:
        list(iter_source(tmp_path))
    assert "\n" not in str(info.value)


def test_sources_read_folders_and_npz(tmp_path):
    rng = np.random.default_rng(4)
    imgs = rng.integers(0, 256, size=(3, 5, 6, 3), dtype=np.uint8)
    folder = tmp_path / "f"
    folder.mkdir()
    for i, im in enumerate(imgs):
        Image.fromarray(im).save(folder / f"{i}.png")
    Image.fromarray(imgs[0]).convert("RGBA").save(folder / "3.png")
    Image.fromarray(imgs[0][..., 0]).save(folder / "4.png")
    got = list(iter_source(folder))
    np.testing.assert_array_equal(np.stack(got[:3]), imgs)
    np.testing.assert_array_equal(got[3], imgs[0])  # alpha dropped
    np.testing.assert_array_equal(got[4], np.repeat(imgs[0][..., :1], 3, -1))  # gray repeated
    np.savez(tmp_path / "imgs.npz", images=imgs)
    np.testing.assert_array_equal(np.concatenate(list(iter_source(tmp_path / "imgs.npz"))), imgs)
    np.savez(tmp_path / "s.npz", mu=np.ones(2), sigma=np.eye(2))
    stats = source_statistics(tmp_path / "s.npz")  # statistics need no network
    np.testing.assert_array_equal(stats.mu, np.ones(2))
