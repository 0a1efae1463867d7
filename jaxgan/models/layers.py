"""Building blocks shared by the architectures.

`UpConv` is the DCGAN generator's 4x4, stride-2 transposed convolution (PyTorch
``ConvTranspose2d(k=4, s=2, p=1)``). It keeps exactly that layer's parameters (one 4x4
kernel) and computes exactly that function, in one of several ways, all tested equal to
float32 rounding (`tests/test_fast_layers.py`):

* ``"transpose"``: `lax.conv_transpose`, the textbook formulation;
* ``"subpixel"``: the same map rewritten as a stride-1 3x3 convolution producing 4x the
  channels, then a depth-to-space shuffle. On CPU, XLA's kernel gradient of a strided
  transposed convolution is about 18x slower than the stride-1 form (see DESIGN.md);
* ``"phase"`` and ``"col2im"``: one matmul each (below), faster still on CPU;
* ``"fast"`` (the default): whichever of the two is faster for the layer's shape.

Derivation (1-D, per axis). With input ``x`` dilated by 2 and padded by 2, the transposed
convolution computes ``y[2m] = x[m-1] w[0] + x[m] w[2]`` and
``y[2m+1] = x[m] w[1] + x[m+1] w[3]``: output phase ``a`` is a 3-tap correlation over
``x[m-1..m+1]`` with taps ``w[2j - a]`` at ``j in {a, a+1}`` and zero elsewhere.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

DCGAN_INIT = nn.initializers.normal(0.02)  # Radford et al.: all weights ~ N(0, 0.02)


def bn_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """DCGAN's batch-norm gamma ~ N(1, 0.02), as in the PyTorch reference."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


def _phase_gather() -> tuple[np.ndarray, np.ndarray]:
    """Index map from the 4x4 transposed kernel to the 3x3x(2x2 phases) subpixel kernel.

    Returns (idx, mask) of shape (3, 2): for tap j and phase a, the source kernel index
    and whether that tap is used.
    """
    idx = np.zeros((3, 2), np.int32)
    mask = np.zeros((3, 2), np.float32)
    for a in range(2):
        for j in (a, a + 1):
            idx[j, a] = 2 * j - a
            mask[j, a] = 1.0
    return idx, mask


_IDX, _MASK = _phase_gather()


def subpixel_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) transposed-conv kernel -> (3, 3, Cin, 4*Cout) stride-1 kernel.

    Output channel order is (phase_row, phase_col, Cout), matching `depth_to_space`.
    """
    cin, cout = w.shape[2], w.shape[3]
    # rows: (3, 2, 4, Cin, Cout) -> gather kernel rows per (tap, phase)
    k = w[_IDX] * _MASK[:, :, None, None, None].astype(w.dtype)  # (3, 2, 4, Cin, Cout)
    k = k[:, :, _IDX] * _MASK[None, None, :, :, None, None].astype(w.dtype)
    # k: (3 tap_r, 2 phase_r, 3 tap_c, 2 phase_c, Cin, Cout)
    k = jnp.transpose(k, (0, 2, 4, 1, 3, 5))  # (3, 3, Cin, 2, 2, Cout)
    return k.reshape(3, 3, cin, 4 * cout)


def depth_to_space(x: jax.Array, r: int = 2) -> jax.Array:
    """(B, H, W, r*r*C) with channel order (row phase, col phase, C) -> (B, rH, rW, C)."""
    b, h, w, c = x.shape
    c_out = c // (r * r)
    x = x.reshape(b, h, w, r, r, c_out)
    x = jnp.transpose(x, (0, 1, 3, 2, 4, 5))
    return x.reshape(b, h * r, w * r, c_out)


class UpConv(nn.Module):
    """4x4 stride-2 transposed convolution doubling H and W (PyTorch padding=1)."""

    features: int
    mode: str = "fast"  # any of UPSAMPLE_MODES: the same function, different programs
    use_bias: bool = False
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        cin = x.shape[-1]
        w = self.param("kernel", DCGAN_INIT, (4, 4, cin, self.features), jnp.float32)
        x = x.astype(self.dtype)
        w = w.astype(self.dtype)
        dn = ("NHWC", "HWIO", "NHWC")
        if self.mode == "transpose":
            y = jax.lax.conv_transpose(x, w, (2, 2), ((2, 2), (2, 2)), dimension_numbers=dn)
        elif self.mode == "subpixel":
            y = jax.lax.conv_general_dilated(x, subpixel_kernel(w), (1, 1), ((1, 1), (1, 1)),
                                             dimension_numbers=dn)
            y = depth_to_space(y, 2)
        elif self.mode == "phase":
            y = upconv_phase(x, w)
        elif self.mode == "col2im":
            y = upconv_col2im(x, w)
        elif self.mode == "fast":
            y = upconv_fast(x, w)
        else:
            raise ValueError(f"UpConv mode must be one of {', '.join(UPSAMPLE_MODES)}, got "
                             f"{self.mode!r}")
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(self.dtype)
        return y


# --------------------------------------------------------------------------------------
# Zoo layers: spectral norm, self-attention, conditional batch norm (SNGAN/SAGAN/cGAN).
# ProGAN's pixel norm, minibatch stddev and equalized-LR layers live in `progan.py`.
# --------------------------------------------------------------------------------------


def _l2n(x: jax.Array, eps: float = 1e-12) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.maximum(jnp.sum(x * x), eps))


def spectral_normalize(mdl: nn.Module, w: jax.Array, update_stats: bool, n_steps: int = 1,
                       name: str = "sn_u") -> jax.Array:
    """``w / sigma(w)`` with sigma from power iteration (Miyato et al. 2018, Algorithm 1).

    The power-iteration vector ``u`` is state, not a parameter: it lives in the
    ``batch_stats`` collection, so the train step threads (and pmeans) it like batch-norm
    statistics, checkpoints keep it, and inference (``update_stats=False``) is
    deterministic. ``u`` and ``v`` are constants for the gradient while ``sigma = v W u``
    is not, as in the paper and PyTorch's ``spectral_norm``. `w` is read as a matrix
    (fan-in, fan-out), i.e. conv kernels are flattened over (H, W, Cin).
    """
    mat = w.reshape(-1, w.shape[-1]).astype(jnp.float32)
    u_var = mdl.variable("batch_stats", name,
                         lambda: _l2n(jax.random.normal(mdl.make_rng("params"),
                                                        (mat.shape[1],))))
    u = u_var.value
    v = u
    for _ in range(n_steps):
        v = _l2n(mat @ u)
        u = _l2n(v @ mat)
    u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
    sigma = v @ mat @ u
    if update_stats and not mdl.is_initializing():
        u_var.value = u
    return (mat / sigma).reshape(w.shape).astype(w.dtype)


class SNConv(nn.Module):
    """A convolution whose kernel is optionally spectrally normalized (``sn=True``)."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    strides: tuple[int, int] = (1, 1)
    padding: str | tuple = "SAME"
    sn: bool = True
    use_bias: bool = True
    kernel_init: nn.initializers.Initializer = nn.initializers.xavier_uniform()
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, update_stats: bool = True) -> jax.Array:
        w = self.param("kernel", self.kernel_init,
                       (*self.kernel_size, x.shape[-1], self.features), jnp.float32)
        if self.sn:
            w = spectral_normalize(self, w, update_stats)
        pad = self.padding
        if not isinstance(pad, str):
            pad = tuple(tuple(p) for p in pad)
        y = jax.lax.conv_general_dilated(x.astype(self.dtype), w.astype(self.dtype),
                                         self.strides, pad,
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y


class SNDense(nn.Module):
    """A dense layer whose kernel is optionally spectrally normalized (``sn=True``)."""

    features: int
    sn: bool = True
    use_bias: bool = True
    kernel_init: nn.initializers.Initializer = nn.initializers.xavier_uniform()
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, update_stats: bool = True) -> jax.Array:
        w = self.param("kernel", self.kernel_init, (x.shape[-1], self.features), jnp.float32)
        if self.sn:
            w = spectral_normalize(self, w, update_stats)
        y = x.astype(self.dtype) @ w.astype(self.dtype)
        if self.use_bias:
            y = y + self.param("bias", nn.initializers.zeros, (self.features,)).astype(y.dtype)
        return y


class SNEmbed(nn.Module):
    """Class embedding for the projection discriminator, spectrally normalized as in
    Miyato & Koyama 2018 (pfnet-research/sngan_projection applies SN to the embedding)."""

    num_classes: int
    features: int
    sn: bool = True

    @nn.compact
    def __call__(self, y: jax.Array, update_stats: bool = True) -> jax.Array:
        table = self.param("embedding", nn.initializers.xavier_uniform(),
                           (self.num_classes, self.features), jnp.float32)
        if self.sn:
            table = spectral_normalize(self, table, update_stats)
        return table[y]


class CondBatchNorm(nn.Module):
    """Batch norm whose scale and shift are looked up per class (de Vries et al. 2017;
    the SNGAN-projection / BigGAN generator). With ``num_classes == 0`` it is plain
    batch norm, so one generator class serves both the conditional and unconditional case.
    """

    num_classes: int = 0
    axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        cond = self.num_classes > 0
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                         use_scale=not cond, use_bias=not cond, axis_name=self.axis_name,
                         dtype=self.dtype)(x)
        if not cond:
            return h
        c = x.shape[-1]
        y = jnp.zeros((x.shape[0],), jnp.int32) if y is None else y
        gamma = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.ones,
                         name="gamma")(y)
        beta = nn.Embed(self.num_classes, c, embedding_init=nn.initializers.zeros,
                        name="beta")(y)
        return h * gamma[:, None, None, :].astype(h.dtype) + beta[:, None, None, :].astype(h.dtype)


class SelfAttention(nn.Module):
    """SAGAN's self-attention block (Zhang et al. 2019) in BigGAN's form: 1x1 convs to
    theta (C/8), phi (C/8) and g (C/2), phi and g max-pooled 2x2 to cut the attention map
    4x, softmax over positions, a 1x1 conv back to C, and a residual scaled by ``gamma``
    initialized to 0 so the block starts as the identity."""

    sn: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, update_stats: bool = True) -> jax.Array:
        b, h, w, c = x.shape
        ck, cv = max(c // 8, 1), max(c // 2, 1)

        def conv(f, name):
            return SNConv(f, (1, 1), sn=self.sn, use_bias=False, dtype=self.dtype, name=name)

        theta = conv(ck, "theta")(x, update_stats).reshape(b, h * w, ck)
        phi = conv(ck, "phi")(x, update_stats)
        g = conv(cv, "g")(x, update_stats)
        pool = h >= 2 and w >= 2
        if pool:
            phi = nn.max_pool(phi, (2, 2), (2, 2))
            g = nn.max_pool(g, (2, 2), (2, 2))
        phi = phi.reshape(b, -1, ck)
        g = g.reshape(b, -1, cv)
        attn = jax.nn.softmax((theta @ phi.transpose(0, 2, 1)).astype(jnp.float32), axis=-1)
        o = (attn.astype(g.dtype) @ g).reshape(b, h, w, cv)
        o = conv(c, "out")(o, update_stats)
        gamma = self.param("gamma", nn.initializers.zeros, ())
        return x + gamma.astype(o.dtype) * o


# --------------------------------------------------------------------------------------
# Fast exact formulations for CPU (issue 8): the DCGAN up- and down-convolutions written as
# one matrix multiplication over 2x2 patches, because XLA:CPU's gradients of small or
# strided convolutions are slow while its dot (and the dot's gradient, another dot) runs
# at matmul speed. The functions compute exactly the plain layers' maps (same kernels,
# same parameters); `tests/test_fast_layers.py` checks values and gradients.
# --------------------------------------------------------------------------------------

UPSAMPLE_MODES = ("subpixel", "transpose", "phase", "col2im", "fast")
DOWNSAMPLE_MODES = ("conv", "s2d")


def patches_2x2(x: jax.Array) -> jax.Array:
    """(B, H+1, W+1, C) -> (B, H, W, 4C): every 2x2 window, channel order (row, col, C)."""
    h, w = x.shape[1] - 1, x.shape[2] - 1
    return jnp.concatenate([x[:, i:i + h, j:j + w] for i in range(2) for j in range(2)], -1)


def phase_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) transposed-conv kernel -> (4 Cin, 4 Cout) matrix of 2x2 phase taps.

    Output phase ``a`` of the stride-2 transposed convolution reads input taps ``m-1+a+j``
    (j = 0, 1) with kernel rows ``a + 2j`` (see the module docstring), so the 4x4 kernel
    splits into four 2x2 kernels by a reshape: row index ``2j + a``. Rows of the matrix
    are ordered (tap row, tap col, Cin) as in `patches_2x2`; columns (phase row, phase
    col, Cout) as in `depth_to_space`.
    """
    cin, cout = w.shape[2], w.shape[3]
    k = w.reshape(2, 2, 2, 2, cin, cout)  # (j_r, a_r, j_c, a_c, Cin, Cout)
    return jnp.transpose(k, (0, 2, 4, 1, 3, 5)).reshape(4 * cin, 4 * cout)


def upconv_phase(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 transposed convolution (padding 1) as ONE matmul over 2x2 patches.

    All four output phases share the patches of the input padded by one pixel: a
    (B (H+1)(W+1), 4 Cin) x (4 Cin, 4 Cout) product computes every phase at every padded
    position, and phase ``(a, b)`` is the window starting at ``(a, b)``. FLOPs are the
    transposed convolution's times ((H+1)/H)^2, with none of the subpixel form's 9/4.
    """
    b, h, wd, cin = x.shape
    cout = w.shape[-1]
    p = patches_2x2(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0))))
    full = (p.reshape(-1, 4 * cin) @ phase_kernel(w)).reshape(b, h + 1, wd + 1, 2, 2, cout)
    rows = [jnp.stack([full[:, a:a + h, c:c + wd, a, c] for c in range(2)], axis=3)
            for a in range(2)]  # each (B, H, W, 2 col phases, Cout)
    return jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * wd, cout)


def _shifted(a: jax.Array, axis: int, forward: bool) -> jax.Array:
    """``a[q-1]`` (forward) or ``a[q+1]`` at position q along `axis`, zero past the edge."""
    n = a.shape[axis]
    pad = [(0, 0)] * a.ndim
    pad[axis] = (1, 0) if forward else (0, 1)
    kept = jax.lax.slice_in_dim(a, 0, n - 1, axis=axis) if forward else \
        jax.lax.slice_in_dim(a, 1, n, axis=axis)
    return jnp.pad(kept, pad)


def _overlap_add(y: jax.Array, axis: int, tap_axis: int) -> jax.Array:
    """Sum the 4 kernel taps of `tap_axis` into a 2x longer `axis` (module docstring:
    ``y[2m] = x[m-1] w[0] + x[m] w[2]``, ``y[2m+1] = x[m] w[1] + x[m+1] w[3]``)."""
    def tap(k):
        return jnp.take(y, k, axis=tap_axis)

    even = tap(2) + _shifted(tap(0), axis, forward=True)
    odd = tap(1) + _shifted(tap(3), axis, forward=False)
    shape = list(even.shape)
    shape[axis] *= 2
    return jnp.stack([even, odd], axis=axis + 1).reshape(shape)


def upconv_col2im(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 transposed convolution as ONE matmul, then an overlap-add.

    Every input pixel times the whole kernel, a (B H W, Cin) x (Cin, 16 Cout) product,
    gives its 16 contributions; each output pixel sums the 4 that land on it. The FLOPs
    are exactly the transposed convolution's (`upconv_phase` computes a ((H+1)/H)^2
    border on top, 1.56x at 4x4) and no patches are built, but the product is 16 Cout
    wide: it wins where H is small or Cout is (see `upconv_fast`).
    """
    b, h, wd, cin = x.shape
    cout = w.shape[-1]
    y = x.reshape(-1, cin) @ jnp.transpose(w, (2, 0, 1, 3)).reshape(cin, 16 * cout)
    y = _overlap_add(y.reshape(b, h, wd, 4, 4, cout), 1, 3)  # rows: (B, 2H, W, 4, Cout)
    return _overlap_add(y, 2, 3)


def upconv_fast(x: jax.Array, w: jax.Array) -> jax.Array:
    """The faster exact formulation for this layer's shape on CPU (issue 8 measurements,
    forward + both gradients, batch 64): `upconv_col2im` at 4x4 input (159 vs 201 ms for
    512->256) and for few output channels (63 vs 137 ms for 64->3 at 32x32);
    `upconv_phase` elsewhere (207 vs 224 ms at 8x8, 246 vs 298 ms at 16x16)."""
    if min(x.shape[1:3]) <= 4 or w.shape[-1] < 16:
        return upconv_col2im(x, w)
    return upconv_phase(x, w)


def space_to_depth(x: jax.Array, r: int = 2) -> jax.Array:
    """(B, rH, rW, C) -> (B, H, W, r*r*C), channel order (row phase, col phase, C)."""
    b, h, w, c = x.shape
    x = x.reshape(b, h // r, r, w // r, r, c)
    return jnp.transpose(x, (0, 1, 3, 2, 4, 5)).reshape(b, h // r, w // r, r * r * c)


def s2d_kernel(w: jax.Array) -> jax.Array:
    """(4, 4, Cin, Cout) stride-2 kernel -> (16 Cin, Cout) matrix for 2x2 taps over blocks.

    Kernel row ``i = 2a + p`` is block tap ``a``, in-block row ``p``; rows of the matrix
    follow `patches_2x2` over `space_to_depth` channels: (a, b, p, q, Cin).
    """
    cin, cout = w.shape[2], w.shape[3]
    k = w.reshape(2, 2, 2, 2, cin, cout)  # (a, p, b, q, Cin, Cout)
    return jnp.transpose(k, (0, 2, 1, 3, 4, 5)).reshape(16 * cin, cout)


def downconv_s2d(x: jax.Array, w: jax.Array) -> jax.Array:
    """The 4x4 stride-2 convolution (padding 1) as space-to-depth + one matmul.

    Padding by one and folding 2x2 blocks into channels turns the strided 4x4 window into
    a stride-1 2x2 window over blocks, i.e. a (B H/2 W/2, 16 Cin) x (16 Cin, Cout) dot.
    """
    b, h, wd, cin = x.shape
    if h % 2 or wd % 2:
        raise ValueError(f"DownConv mode 's2d' needs even H and W, got {h}x{wd}")
    p = patches_2x2(space_to_depth(jnp.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))))
    return (p.reshape(-1, 16 * cin) @ s2d_kernel(w)).reshape(b, h // 2, wd // 2, -1)


class DownConv(nn.Module):
    """4x4 stride-2 convolution halving H and W (PyTorch ``Conv2d(k=4, s=2, p=1)``).

    Its only parameter is ``kernel`` (4, 4, Cin, Cout), as `nn.Conv`'s, so checkpoints of
    the DCGAN discriminator are the same whichever mode computes it.
    """

    features: int
    mode: str = "conv"  # "conv" (lax.conv) | "s2d" (space-to-depth + matmul): same map
    dtype: jnp.dtype = jnp.float32
    kernel_init: nn.initializers.Initializer = DCGAN_INIT
    sn: bool = False  # spectrally normalize the kernel (`spectral_normalize`)

    @nn.compact
    def __call__(self, x: jax.Array, update_stats: bool = True) -> jax.Array:
        w = self.param("kernel", self.kernel_init, (4, 4, x.shape[-1], self.features),
                       jnp.float32)
        if self.sn:
            w = spectral_normalize(self, w, update_stats)
        x, w = x.astype(self.dtype), w.astype(self.dtype)
        if self.mode == "conv":
            return jax.lax.conv_general_dilated(x, w, (2, 2), ((1, 1), (1, 1)),
                                                dimension_numbers=("NHWC", "HWIO", "NHWC"))
        if self.mode == "s2d":
            return downconv_s2d(x, w)
        raise ValueError(f"DownConv mode must be one of {', '.join(DOWNSAMPLE_MODES)}, got "
                         f"{self.mode!r}")
