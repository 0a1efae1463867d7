"""StyleGAN2's building blocks in plain jnp (Karras et al. 2020, "Analyzing and Improving
the Image Quality of StyleGAN"; the ADA paper's code as the reference of the details).

Why plain jnp and no custom kernels: XLA fuses these ops on TPU, GPU and CPU alike, and a
plain formula is what the tests can check against numpy, values and gradients.

* `upfirdn2d`: upsample by zero insertion, pad (negative pads crop), filter with a
  separable FIR (the [1, 3, 3, 1] binomial of `FIR_TAPS`), downsample by striding: the
  anti-aliased resampling of every up and down step in G and D (`upsample2d`,
  `downsample2d`, and the resampling convolutions `conv_up` / `conv_down`);
* `EqDense` / `EqConv`: equalized learning rate (weights drawn N(0, 1) / lr_mul and scaled
  by ``lr_mul / sqrt(fan_in)`` at run time), so Adam's per-parameter step is the same for
  every layer whatever its fan-in; `lr_mul` 0.01 slows the mapping network down;
* `modulated_conv`: style modulation and demodulation of a convolution (Eqs. 1-3);
* `minibatch_stddev`: one feature map of per-group standard deviations (ProGAN, Sec. 3),
  over groups of *consecutive* samples so a group never spans two devices' shards;
* `latent_keys`: the per-sample PRNG keys of G's own randomness (noise inputs, style
  mixing), derived from each sample's latent.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn
from jax import lax

__all__ = ["FIR_TAPS", "upfirdn2d", "upsample2d", "downsample2d", "conv_up", "conv_down",
           "bias_act", "EqDense", "EqConv", "modulated_conv", "minibatch_stddev",
           "latent_keys", "normalize_2nd_moment"]

FIR_TAPS = (1.0, 3.0, 3.0, 1.0)  # the binomial filter of StyleGAN2's resampling
LRELU_GAIN = math.sqrt(2.0)  # keeps the variance of a leaky ReLU's output at 1


def _taps(f: Any) -> np.ndarray:
    """1-D taps normalized to sum 1 (the separable 2-D filter is their outer product)."""
    f = np.asarray(f, np.float64)
    return f / f.sum()


def _fir_axis(x: jax.Array, f: np.ndarray, axis: int) -> jax.Array:
    """A true (flipped) convolution of every channel with `f` along spatial `axis`, valid.

    Written as a sum of shifted slices, one per tap: the same arithmetic as a depthwise
    convolution, but plain elementwise work that every backend fuses into one kernel.
    XLA:CPU runs the depthwise (grouped) form ~100x slower at StyleGAN2's sizes, and
    its gradients and R1's double backward pass slower still (benchmarks/RESULTS.md).
    """
    n = x.shape[axis] - len(f) + 1
    out = None
    for t, c in enumerate(f[::-1]):
        term = lax.slice_in_dim(x, t, t + n, axis=axis) * jnp.asarray(c, x.dtype)
        out = term if out is None else out + term
    return out


def upfirdn2d(x: jax.Array, f: Any = FIR_TAPS, up: int = 1, down: int = 1,
              padding: int | tuple[int, int] = 0, gain: float = 1.0) -> jax.Array:
    """Upsample (zero insertion), pad, FIR-filter and downsample NHWC images.

    `f` is the 1-D taps of a separable filter (normalized to sum 1, then scaled so the 2-D
    filter sums to `gain`); `padding` (low, high) is applied to both spatial axes after
    the upsampling, negative values crop.
    """
    taps = _taps(f) * math.sqrt(gain)
    p0, p1 = (padding, padding) if isinstance(padding, int) else padding
    n, h, w, c = x.shape
    if up > 1:
        x = x.reshape(n, h, 1, w, 1, c)
        x = jnp.pad(x, ((0, 0), (0, 0), (0, up - 1), (0, 0), (0, up - 1), (0, 0)))
        x = x.reshape(n, h * up, w * up, c)
    zero = jnp.zeros((), x.dtype)
    x = lax.pad(x, zero, ((0, 0, 0), (p0, p1, 0), (p0, p1, 0), (0, 0, 0)))
    x = _fir_axis(_fir_axis(x, taps, 1), taps, 2)
    return x[:, ::down, ::down, :] if down > 1 else x


def upsample2d(x: jax.Array, f: Any = FIR_TAPS) -> jax.Array:
    """2x upsampling that keeps the image's mean (gain 4 makes up for the zeros)."""
    fw = len(f)
    return upfirdn2d(x, f, up=2, padding=((fw + 1) // 2, (fw - 2) // 2), gain=4.0)


def downsample2d(x: jax.Array, f: Any = FIR_TAPS) -> jax.Array:
    fw = len(f)
    return upfirdn2d(x, f, down=2, padding=((fw - 1) // 2, (fw - 2) // 2))


def _conv(x: jax.Array, kernel: jax.Array, stride: int = 1,
          padding: int | str = 0) -> jax.Array:
    if kernel.shape[:2] == (1, 1) and padding == 0:
        # a 1x1 convolution is a matmul over channels: XLA:CPU rejected the grouped form
        # its batching rule makes of a 1x1 conv under `jaxgan sweep`'s vmap over runs
        x = x[:, ::stride, ::stride] if stride > 1 else x
        return jnp.einsum("nhwi,io->nhwo", x, kernel[0, 0].astype(x.dtype))
    pad = padding if isinstance(padding, str) else ((padding, padding), (padding, padding))
    return lax.conv_general_dilated(x, kernel.astype(x.dtype), (stride, stride), pad,
                                    dimension_numbers=("NHWC", "HWIO", "NHWC"))


def conv_up(x: jax.Array, kernel: jax.Array, f: Any = FIR_TAPS) -> jax.Array:
    """A k x k convolution at twice the resolution, the reference's ``conv2d_resample(up=2,
    padding=k // 2)``: zero insertion, the FIR (gain 4) with that call's total padding,
    then the kernel, both 'valid', so the borders match the fused form exactly."""
    k, fw = kernel.shape[0], len(f)
    pad = (k // 2 + (fw + 1) // 2, k // 2 + (fw - 2) // 2)
    return _conv(upfirdn2d(x, f, up=2, padding=pad, gain=4.0), kernel)


def conv_down(x: jax.Array, kernel: jax.Array, f: Any = FIR_TAPS) -> jax.Array:
    """A k x k convolution to half the resolution (``conv2d_resample(down=2, padding=k //
    2)``): the FIR with the total padding, then the kernel with stride 2."""
    k, fw = kernel.shape[0], len(f)
    pad = (k // 2 + (fw - 1) // 2, k // 2 + (fw - 2) // 2)
    return _conv(upfirdn2d(x, f, padding=pad), kernel, stride=2)


def bias_act(x: jax.Array, b: jax.Array | None, act: str = "linear",
             gain: float = 1.0) -> jax.Array:
    """Add the bias, then the activation scaled to unit variance (leaky ReLU 0.2 x sqrt 2),
    times `gain` (sqrt(0.5) on both branches of a residual block)."""
    if b is not None:
        x = x + b.astype(x.dtype)
    if act == "lrelu":
        return jax.nn.leaky_relu(x, 0.2) * (LRELU_GAIN * gain)
    if act != "linear":
        raise ValueError(f"unknown activation {act!r}")
    return x * gain if gain != 1.0 else x


class EqDense(nn.Module):
    """A dense layer with equalized learning rate and a learning-rate multiplier: the
    kernel is stored as N(0, 1) / lr_mul and the bias as `bias_init`, and both are scaled
    at run time (kernel by lr_mul / sqrt(fan_in), bias by lr_mul), as the reference does."""

    features: int
    lr_mul: float = 1.0
    bias_init: float = 0.0
    act: str = "linear"
    use_bias: bool = True

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        w = self.param("kernel", lambda k, s: jax.random.normal(k, s) / self.lr_mul,
                       (fan_in, self.features))
        b = (self.param("bias", lambda k, s: jnp.full(s, self.bias_init, jnp.float32),
                        (self.features,)) * self.lr_mul if self.use_bias else None)
        y = x @ (w * (self.lr_mul / math.sqrt(fan_in))).astype(x.dtype)
        return bias_act(y, b, self.act)


class EqConv(nn.Module):
    """A convolution with equalized learning rate; `resample` "down" halves the resolution
    through the FIR (`conv_down`), "up" doubles it (`conv_up`)."""

    features: int
    kernel_size: int = 3
    act: str = "linear"
    use_bias: bool = True
    resample: str = "none"  # none | up | down
    gain: float = 1.0

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k, cin = self.kernel_size, x.shape[-1]
        w = self.param("kernel", nn.initializers.normal(1.0), (k, k, cin, self.features))
        w = w * (1.0 / math.sqrt(cin * k * k))
        if self.resample == "down":
            y = conv_down(x, w)
        elif self.resample == "up":
            y = conv_up(x, w)
        else:
            y = _conv(x, w, padding=k // 2)
        b = self.param("bias", nn.initializers.zeros, (self.features,)) \
            if self.use_bias else None
        return bias_act(y, b, self.act, self.gain)


def modulated_conv(x: jax.Array, kernel: jax.Array, styles: jax.Array,
                   demodulate: bool = True, up: bool = False,
                   f: Any = FIR_TAPS) -> jax.Array:
    """StyleGAN2's convolution of each sample with its own weights
    ``w'_ijk = s_i w_ijk``, demodulated to ``w''_ijk = w'_ijk / sqrt(sum_ik w'_ijk^2 + 1e-8)``.

    Computed as the reference's non-fused form: scale the input channels by the styles,
    convolve with the shared kernel, scale the output channels by the demodulation
    coefficients. It is the same linear map as the per-sample weights (demodulation is a
    per-sample, per-output-channel factor) and one ordinary batched convolution, which is
    what every backend is fast at. `kernel` is (k, k, in, out), `styles` (N, in).
    """
    k = kernel.shape[0]
    x = x * styles[:, None, None, :].astype(x.dtype)
    y = conv_up(x, kernel, f) if up else _conv(x, kernel, padding=k // 2)
    if demodulate:
        w = kernel[None].astype(jnp.float32) * styles[:, None, None, :, None]
        d = lax.rsqrt(jnp.sum(jnp.square(w), axis=(1, 2, 3)) + 1e-8)  # (N, out)
        y = y * d[:, None, None, :].astype(y.dtype)
    return y


def minibatch_stddev(x: jax.Array, group: int = 4, num_channels: int = 1) -> jax.Array:
    """Append `num_channels` feature maps: the std of each feature over a group of
    `group` consecutive samples, averaged over pixels and over the features of each of
    `num_channels` slices (the reference's MinibatchStdLayer). The batch must divide into
    groups; consecutive samples so that, with a per-device batch that is a multiple of
    `group`, the groups are the same on any device count."""
    n, h, w, c = x.shape
    g = min(group, n)
    if n % g:
        raise ValueError(f"minibatch stddev groups of {g} do not divide the batch of {n}")
    y = x.astype(jnp.float32).reshape(n // g, g, h, w, num_channels, c // num_channels)
    y = y - jnp.mean(y, axis=1, keepdims=True)
    std = jnp.sqrt(jnp.mean(jnp.square(y), axis=1) + 1e-8)  # (n/g, h, w, F, c/F)
    s = jnp.mean(std, axis=(1, 2, 4))  # (n/g, F)
    s = jnp.repeat(s, g, axis=0)[:, None, None, :]
    return jnp.concatenate([x, jnp.broadcast_to(s, (n, h, w, num_channels)).astype(x.dtype)],
                           axis=-1)


def normalize_2nd_moment(z: jax.Array, eps: float = 1e-8) -> jax.Array:
    """Each latent scaled to unit mean square, the mapping network's first step."""
    return z * lax.rsqrt(jnp.mean(jnp.square(z), axis=-1, keepdims=True) + eps)


def latent_keys(z: jax.Array, stream: int) -> jax.Array:
    """One raw PRNG key per sample, a pure function of that sample's latent.

    Why from the latent: G is called as ``G(z, y)`` everywhere (the train step, the
    sampler, the benchmark, evaluation), and its randomness (noise inputs, style mixing)
    must be per sample of the global batch for runs to agree on any device count. Each
    latent is itself drawn from its sample's global-index key, so hashing its bits gives
    both without a new input. `stream` separates the uses.
    """
    bits = lax.bitcast_convert_type(z.astype(jnp.float32), jnp.uint32)  # (N, D)
    lo = bits[:, 0] ^ jnp.uint32(0x9E3779B9 * (stream + 1) & 0xFFFFFFFF)
    hi = bits[:, 1 % z.shape[1]]
    keys = jnp.stack([hi, lo], axis=-1)
    keys = jax.vmap(lambda k, b: jax.random.fold_in(k, jnp.sum(b)))(keys, bits)
    return keys
