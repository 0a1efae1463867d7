"""The on-device health signals against plain numpy definitions."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.diagnostics import signals


def _np_pairwise(x):
    return np.sqrt(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1))


def _np_diversity(real, fake):
    dr, df = _np_pairwise(real), _np_pairwise(fake)
    b = real.shape[0]
    off = ~np.eye(b, dtype=bool)
    real_div, fake_div = dr[off].mean(), df[off].mean()
    thr = signals.DUP_DISTANCE_FRAC * real_div
    nn_fake = np.where(off, df, np.inf).min(1)
    nn_real = np.where(off, dr, np.inf).min(1)
    return {
        "real_diversity": real_div,
        "fake_diversity": fake_div,
        "diversity_ratio": fake_div / real_div,
        "dup_frac": (nn_fake < thr).mean(),
        "real_dup_frac": (nn_real < thr).mean(),
    }


def test_batch_diversity_matches_numpy_under_jit():
    rng = np.random.default_rng(0)
    # A large common offset, as ReLU features have: the Gram formula must not lose precision.
    real = rng.normal(size=(16, 32)).astype(np.float32) + 50.0
    fake = 0.5 * rng.normal(size=(16, 32)).astype(np.float32) + 50.0
    fake[8:] = fake[0] + 1e-3 * rng.normal(size=(8, 32))  # 9 near-copies of sample 0
    got = jax.jit(signals.batch_diversity)(jnp.asarray(real), jnp.asarray(fake))
    want = _np_diversity(real.astype(np.float64), fake.astype(np.float64))
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k].dtype == jnp.float32
        np.testing.assert_allclose(float(got[k]), v, rtol=1e-4, atol=1e-5, err_msg=k)
    assert float(got["dup_frac"]) == pytest.approx(9 / 16)
    assert float(got["real_dup_frac"]) == 0.0


def test_batch_diversity_collapsed_and_identical_batches():
    rng = np.random.default_rng(1)
    real = jnp.asarray(rng.normal(size=(8, 4)), jnp.float32)
    fake = jnp.tile(jnp.asarray(rng.normal(size=(1, 4)), jnp.float32), (8, 1))
    out = signals.batch_diversity(real, fake)
    assert float(out["fake_diversity"]) == pytest.approx(0.0, abs=1e-3)
    assert float(out["diversity_ratio"]) < 1e-3
    assert float(out["dup_frac"]) == 1.0
    same = signals.batch_diversity(real, real)
    assert float(same["diversity_ratio"]) == pytest.approx(1.0, rel=1e-5)


def test_batch_diversity_flattens_feature_maps_and_handles_batch_of_one():
    x = jnp.ones((4, 2, 2, 3))
    out = signals.batch_diversity(x, x)
    assert all(np.isfinite(float(v)) for v in out.values())
    one = signals.batch_diversity(jnp.ones((1, 3)), jnp.ones((1, 3)))
    assert all(np.isfinite(float(v)) for v in one.values())


def test_batch_diversity_has_no_gradient_leak():
    f = lambda x: signals.batch_diversity(x, x)["fake_diversity"]
    g = jax.grad(f)(jnp.ones((4, 3)))  # identical rows: sqrt(0) must not produce NaN
    assert np.all(np.isfinite(np.asarray(g)))


def test_disc_stats_matches_numpy():
    real = np.array([[2.0], [-1.0], [0.5], [3.0]], np.float32)
    fake = np.array([-2.0, 1.0, -0.1, 0.0], np.float32)
    got = jax.jit(signals.disc_stats)(real, fake)
    sig = lambda x: 1.0 / (1.0 + np.exp(-x))
    assert float(got["d_real_acc"]) == pytest.approx(0.75)
    assert float(got["d_fake_acc"]) == pytest.approx(0.5)  # a logit of exactly 0 is not < 0
    assert float(got["d_real_prob"]) == pytest.approx(sig(real).mean(), rel=1e-6)
    assert float(got["d_fake_prob"]) == pytest.approx(sig(fake).mean(), rel=1e-6)


def _params():
    return {"params": {
        "Dense_0": {"kernel": jnp.full((3, 2), 2.0), "bias": jnp.ones((2,))},
        "Dense_1": {"kernel": jnp.full((2, 1), -1.0, jnp.bfloat16)},
    }}


def test_global_and_per_layer_norms():
    p = _params()
    want0 = np.sqrt(6 * 4.0 + 2 * 1.0)
    want1 = np.sqrt(2.0)
    assert float(jax.jit(signals.global_norm)(p)) == pytest.approx(np.hypot(want0, want1))
    per = signals.per_layer_norms(p, "g_grad_norm")
    assert set(per) == {"g_grad_norm/Dense_0", "g_grad_norm/Dense_1"}
    assert float(per["g_grad_norm/Dense_0"]) == pytest.approx(want0)
    assert float(per["g_grad_norm/Dense_1"]) == pytest.approx(want1)
    assert per["g_grad_norm/Dense_1"].dtype == jnp.float32
    # Without the 'params' wrapper, the same result.
    assert set(signals.per_layer_norms(p["params"], "d")) == {"d/Dense_0", "d/Dense_1"}


def test_global_norm_does_not_overflow_in_half_precision():
    big = {"w": jnp.full((4,), 300.0, jnp.float16)}  # 300**2 overflows float16
    assert float(signals.global_norm(big)) == pytest.approx(600.0)


def test_update_ratio():
    params = {"w": jnp.full((4,), 2.0)}
    updates = {"w": jnp.full((4,), 0.002)}
    assert float(signals.update_ratio(updates, params)) == pytest.approx(1e-3, rel=1e-5)
    assert np.isfinite(float(signals.update_ratio(updates, {"w": jnp.zeros(4)})))


def test_nonfinite():
    ok = {"a": jnp.ones(3), "i": jnp.arange(3)}
    assert float(jax.jit(signals.nonfinite)(ok, jnp.float32(1.0))) == 0.0
    bad = {"a": jnp.array([1.0, jnp.nan])}
    out = jax.jit(signals.nonfinite)(ok, bad)
    assert out.dtype == jnp.float32 and float(out) == 1.0
    assert float(signals.nonfinite(jnp.float32(jnp.inf))) == 1.0
    assert float(signals.nonfinite()) == 0.0
