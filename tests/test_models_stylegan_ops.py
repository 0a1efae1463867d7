"""StyleGAN2's ops against plain numpy written here: upfirdn2d (up, down, crop, an
asymmetric filter to catch a missing flip), the resampling convolutions, equalized-LR
layers, modulated convolution with and without demodulation (the per-sample weights of
the paper's Eqs. 1-3), minibatch stddev; values and gradients (jax.grad against central
finite differences of the numpy version in float64)."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxgan.models import stylegan_ops as ops

RNG = np.random.default_rng(0)


# ------------------------------------------------------------------- numpy references

def np_upfirdn2d(x, taps, up=1, down=1, pad=(0, 0), gain=1.0):
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    if up > 1:
        z = np.zeros((n, h * up, w * up, c))
        z[:, ::up, ::up] = x
        x = z
    p0, p1 = pad
    x = np.pad(x, ((0, 0), (max(p0, 0), max(p1, 0)), (max(p0, 0), max(p1, 0)), (0, 0)))
    x = x[:, max(-p0, 0):x.shape[1] - max(-p1, 0), max(-p0, 0):x.shape[2] - max(-p1, 0)]
    t = np.asarray(taps, np.float64)
    f = np.outer(t, t) / t.sum() ** 2 * gain
    k = f.shape[0]
    oh, ow = x.shape[1] - k + 1, x.shape[2] - k + 1
    out = np.zeros((n, oh, ow, c))
    for a in range(k):  # a true convolution: the filter flipped
        for b in range(k):
            out += x[:, a:a + oh, b:b + ow] * f[k - 1 - a, k - 1 - b]
    return out[:, ::down, ::down]


def np_conv(x, kernel, stride=1, pad=0):
    """Cross-correlation (what every deep-learning conv is), NHWC / HWIO."""
    x = np.pad(np.asarray(x, np.float64), ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    k = kernel.shape[0]
    oh, ow = (x.shape[1] - k) // stride + 1, (x.shape[2] - k) // stride + 1
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[3]))
    for a in range(k):
        for b in range(k):
            patch = x[:, a:a + stride * (oh - 1) + 1:stride, b:b + stride * (ow - 1) + 1:stride]
            out += patch @ kernel[a, b]
    return out


def np_modconv(x, kernel, styles, demodulate, up=False):
    """Each sample convolved with its own modulated (and demodulated) weights."""
    outs = []
    for i in range(x.shape[0]):
        w = kernel * styles[i][None, None, :, None]
        if demodulate:
            w = w / np.sqrt(np.sum(w ** 2, axis=(0, 1, 2), keepdims=True) + 1e-8)
        xi = x[i:i + 1]
        k = kernel.shape[0]
        if up:
            xi = np_upfirdn2d(xi, ops.FIR_TAPS, up=2, pad=(k // 2 + 2, k // 2 + 1), gain=4)
            outs.append(np_conv(xi, w))
        else:
            outs.append(np_conv(xi, w, pad=k // 2))
    return np.concatenate(outs)


def np_mbstd(x, group, num_channels):
    n, h, w, c = x.shape
    y = x.reshape(n // group, group, h, w, num_channels, c // num_channels)
    std = np.sqrt(np.var(y, axis=1) + 1e-8)
    s = std.mean(axis=(1, 2, 4))
    s = np.repeat(s, group, axis=0)
    return np.concatenate([x, np.broadcast_to(s[:, None, None, :], (n, h, w, num_channels))],
                          axis=-1)


def fd_grad(fn, x, r, eps=1e-5):
    """d/dx sum(fn(x) * r) by central differences, float64."""
    x = np.asarray(x, np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = eps
        g[i] = (np.sum(fn(x + e) * r) - np.sum(fn(x - e) * r)) / (2 * eps)
    return g


def check_grad(jfn, nfn, x, rtol=2e-3, atol=2e-4):
    out = nfn(np.asarray(x, np.float64))
    r = RNG.normal(size=out.shape)
    got = jax.grad(lambda a: jnp.sum(jfn(a) * jnp.asarray(r, jnp.float32)))(
        jnp.asarray(x, jnp.float32))
    np.testing.assert_allclose(np.asarray(got), fd_grad(nfn, x, r), rtol=rtol, atol=atol)


# --------------------------------------------------------------------------- upfirdn2d

@pytest.mark.parametrize("taps,up,down,pad,gain", [
    (ops.FIR_TAPS, 2, 1, (2, 1), 4.0),   # upsample2d
    (ops.FIR_TAPS, 1, 2, (1, 1), 1.0),   # downsample2d
    ((1.0, 2.0, 4.0), 1, 1, (1, -1), 1.0),  # asymmetric filter and a crop
    ((1.0, 2.0, 4.0), 2, 2, (3, 0), 2.0),
])
def test_upfirdn2d_matches_numpy_values_and_gradients(taps, up, down, pad, gain):
    x = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    got = ops.upfirdn2d(jnp.asarray(x), taps, up, down, pad, gain)
    want = np_upfirdn2d(x, taps, up, down, pad, gain)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-5, atol=1e-5)
    check_grad(lambda a: ops.upfirdn2d(a, taps, up, down, pad, gain),
               lambda a: np_upfirdn2d(a, taps, up, down, pad, gain), x[:1, :3, :4, :2])


def test_resampling_keeps_a_constant_image_away_from_the_borders():
    """The filters sum to 1 (x4 for the zero insertion): a constant stays constant inside."""
    x = jnp.full((1, 8, 8, 1), 0.7)
    up = ops.upsample2d(x)
    down = ops.downsample2d(x)
    assert up.shape == (1, 16, 16, 1) and down.shape == (1, 4, 4, 1)
    np.testing.assert_allclose(np.asarray(up[0, 2:-2, 2:-2]), 0.7, rtol=1e-6)
    np.testing.assert_allclose(np.asarray(down[0, 1:-1, 1:-1]), 0.7, rtol=1e-6)


@pytest.mark.parametrize("k", [1, 3])
def test_conv_down_is_the_filtered_strided_convolution(k):
    x = RNG.normal(size=(2, 8, 8, 3)).astype(np.float32)
    w = RNG.normal(size=(k, k, 3, 4)).astype(np.float32)
    got = ops.conv_down(jnp.asarray(x), jnp.asarray(w))
    want = np_conv(np_upfirdn2d(x, ops.FIR_TAPS, pad=(k // 2 + 1, k // 2 + 1)), w, stride=2)
    assert got.shape == (2, 4, 4, 4)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-4)
    check_grad(lambda a: ops.conv_down(a, jnp.asarray(w)),
               lambda a: np_conv(np_upfirdn2d(a, ops.FIR_TAPS, pad=(k // 2 + 1,) * 2), w,
                                 stride=2), x[:1, :4, :4])


def test_conv_up_equals_the_fused_transposed_form():
    """The reference fuses kernel and filter as a transposed convolution then the FIR; ours
    filters first. Both are 'valid' compositions of the same linear maps: the same numbers,
    checked here against the fused 6x6 filter (kernel * FIR) on the zero-inserted input."""
    x = RNG.normal(size=(1, 4, 4, 2)).astype(np.float32)
    w = RNG.normal(size=(3, 3, 2, 3)).astype(np.float32)
    got = np.asarray(ops.conv_up(jnp.asarray(x), jnp.asarray(w)))
    t = np.asarray(ops.FIR_TAPS) / sum(ops.FIR_TAPS)
    fir = np.outer(t, t) * 4.0
    fused = np.zeros((6, 6, 2, 3))  # (x * fir) corr w == x corr (fir (full conv) w)
    for a in range(4):
        for b in range(4):
            fused[a:a + 3, b:b + 3] += fir[a, b] * w
    z = np.zeros((1, 8, 8, 2))
    z[:, ::2, ::2] = x
    want = np_conv(np.pad(z, ((0, 0), (3, 2), (3, 2), (0, 0))), fused)
    assert got.shape == (1, 8, 8, 3)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------- equalized-LR layers

def test_eq_dense_scales_weight_and_bias_at_run_time():
    x = RNG.normal(size=(3, 6)).astype(np.float32)
    layer = ops.EqDense(4, lr_mul=0.01, bias_init=0.5, act="lrelu")
    v = layer.init(jax.random.PRNGKey(0), x)
    w, b = np.asarray(v["params"]["kernel"]), np.asarray(v["params"]["bias"])
    assert abs(np.std(w) * 0.01 - 1.0) < 0.5 and np.allclose(b, 0.5)  # stored N(0,1)/lr_mul
    pre = x @ (w * 0.01 / math.sqrt(6)) + b * 0.01
    want = np.where(pre > 0, pre, 0.2 * pre) * math.sqrt(2)
    np.testing.assert_allclose(np.asarray(layer.apply(v, x)), want, rtol=1e-5, atol=1e-6)
    gw = jax.grad(lambda p: jnp.sum(layer.apply({"params": p}, x)))(v["params"])["kernel"]
    slope = np.where(pre > 0, 1.0, 0.2) * math.sqrt(2)  # analytic: x^T slope * gain
    np.testing.assert_allclose(np.asarray(gw), x.T @ slope * 0.01 / math.sqrt(6), rtol=1e-4,
                               atol=1e-7)


def test_eq_conv_down_matches_numpy():
    x = RNG.normal(size=(2, 8, 8, 3)).astype(np.float32)
    layer = ops.EqConv(4, 3, act="lrelu", resample="down", gain=math.sqrt(0.5))
    v = layer.init(jax.random.PRNGKey(1), x)
    w = np.asarray(v["params"]["kernel"]) / math.sqrt(27)
    pre = np_conv(np_upfirdn2d(x, ops.FIR_TAPS, pad=(2, 2)), w, stride=2)
    want = np.where(pre > 0, pre, 0.2 * pre) * math.sqrt(2) * math.sqrt(0.5)
    np.testing.assert_allclose(np.asarray(layer.apply(v, x)), want, rtol=1e-4, atol=1e-5)


# --------------------------------------------------------------------- modulated conv

@pytest.mark.parametrize("demodulate,up,k", [(True, False, 3), (False, False, 1),
                                             (True, True, 3)])
def test_modulated_conv_matches_per_sample_weights(demodulate, up, k):
    x = RNG.normal(size=(2, 4, 4, 3)).astype(np.float32)
    w = RNG.normal(size=(k, k, 3, 5)).astype(np.float32)
    s = RNG.normal(1.0, 0.3, size=(2, 3)).astype(np.float32)
    got = ops.modulated_conv(jnp.asarray(x), jnp.asarray(w), jnp.asarray(s), demodulate, up)
    want = np_modconv(x, w, s, demodulate, up)
    np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-4)
    # gradients with respect to the input, the kernel and the styles
    xs, ss = x[:1, :3, :3], s[:1]
    check_grad(lambda a: ops.modulated_conv(a, jnp.asarray(w), jnp.asarray(ss), demodulate,
                                            up),
               lambda a: np_modconv(a, w, ss, demodulate, up), xs)
    check_grad(lambda a: ops.modulated_conv(jnp.asarray(xs), jnp.asarray(w), a, demodulate,
                                            up),
               lambda a: np_modconv(xs, w, a, demodulate, up), ss)
    check_grad(lambda a: ops.modulated_conv(jnp.asarray(xs), a, jnp.asarray(ss), demodulate,
                                            up),
               lambda a: np_modconv(xs, a, ss, demodulate, up), w[..., :2])


def test_demodulation_gives_unit_output_variance_for_unit_input():
    """The point of Eq. 3: with i.i.d. unit inputs, each output channel has unit std,
    whatever the style's scale."""
    x = jax.random.normal(jax.random.PRNGKey(0), (32, 8, 8, 32))
    w = jax.random.normal(jax.random.PRNGKey(1), (3, 3, 32, 8))
    s = 5.0 * jax.random.uniform(jax.random.PRNGKey(2), (32, 32), minval=0.5)
    y = ops.modulated_conv(x, w, s)[:, 1:-1, 1:-1]
    np.testing.assert_allclose(np.asarray(jnp.std(y, axis=(0, 1, 2))), 1.0, atol=0.1)


# ------------------------------------------------------------------- minibatch stddev

@pytest.mark.parametrize("group,channels", [(4, 1), (2, 2)])
def test_minibatch_stddev_matches_numpy(group, channels):
    x = RNG.normal(size=(8, 3, 3, 4)).astype(np.float32)
    got = ops.minibatch_stddev(jnp.asarray(x), group, channels)
    np.testing.assert_allclose(np.asarray(got), np_mbstd(x.astype(np.float64), group,
                                                         channels), rtol=1e-5, atol=1e-6)
    check_grad(lambda a: ops.minibatch_stddev(a, group, channels),
               lambda a: np_mbstd(a, group, channels), x[:group, :2, :2])


def test_minibatch_stddev_groups_are_consecutive_samples():
    """A group never mixes the halves of the batch: each half's statistic is its own, so
    a batch split over devices at multiples of the group gives the same features."""
    x = RNG.normal(size=(8, 2, 2, 3)).astype(np.float32)
    whole = np.asarray(ops.minibatch_stddev(jnp.asarray(x), 4))
    halves = np.concatenate([np.asarray(ops.minibatch_stddev(jnp.asarray(x[:4]), 4)),
                             np.asarray(ops.minibatch_stddev(jnp.asarray(x[4:]), 4))])
    np.testing.assert_array_equal(whole, halves)
    with pytest.raises(ValueError, match="do not divide"):
        ops.minibatch_stddev(jnp.asarray(x[:6]), 4)


def test_latent_keys_are_per_sample_and_split_by_stream():
    z = jax.random.normal(jax.random.PRNGKey(0), (4, 8))
    a, b = ops.latent_keys(z, 0), ops.latent_keys(z, 1)
    assert a.shape == (4, 2) and a.dtype == jnp.uint32
    np.testing.assert_array_equal(np.asarray(ops.latent_keys(z[2:], 0)), np.asarray(a[2:]))
    assert len({tuple(k) for k in np.asarray(a).tolist()}) == 4
    assert not np.any(np.all(np.asarray(a) == np.asarray(b), axis=1))
