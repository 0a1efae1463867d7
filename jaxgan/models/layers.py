"""Building blocks shared by the architectures.

`UpConv` and `DownConv` are the DCGAN's 4x4, stride-2 (transposed) convolutions (PyTorch
``ConvTranspose2d`` / ``Conv2d(k=4, s=2, p=1)``). Each keeps exactly that layer's one
4x4 kernel and computes exactly that function in one of several programs (`mode`); the
programs themselves, and why there are several, are in `strided_conv.py`. Then the zoo
layers: spectral norm, conditional batch norm, self-attention.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.strided_conv import (
    DOWNSAMPLE_MODES,
    UPSAMPLE_MODES,
    depth_to_space,
    downconv_s2d,
    subpixel_kernel,
    upconv_col2im,
    upconv_fast,
    upconv_phase,
)

DCGAN_INIT = nn.initializers.normal(0.02)  # Radford et al.: all weights ~ N(0, 0.02)


def bn_scale_init(key: jax.Array, shape, dtype=jnp.float32) -> jax.Array:
    """DCGAN's batch-norm gamma ~ N(1, 0.02), as in the PyTorch reference."""
    return 1.0 + 0.02 * jax.random.normal(key, shape, dtype)


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
    """A convolution whose kernel is optionally spectrally normalized (``sn=True``).

    A 1x1, stride-1 convolution is computed as a matmul over the channel axis (the same
    kernel parameter). Why: under `jax.vmap` over parameters (`jaxgan sweep`), XLA:CPU
    (jaxlib 0.10.2) rejected the grouped 1x1 convolutions this makes of BigGAN's attention
    projections and shortcuts at compile time ("Expected output feature dimension (value
    1) to be divisible by feature_group_count (value 2)"); a vmapped matmul is a plain
    batched dot.
    """

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
        if tuple(self.kernel_size) == (1, 1) and tuple(self.strides) == (1, 1) and \
                pad in ("SAME", "VALID"):
            y = x.astype(self.dtype) @ w[0, 0].astype(self.dtype)
        else:
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
    bias_init: nn.initializers.Initializer = nn.initializers.zeros

    @nn.compact
    def __call__(self, x: jax.Array, update_stats: bool = True) -> jax.Array:
        w = self.param("kernel", self.kernel_init, (x.shape[-1], self.features), jnp.float32)
        if self.sn:
            w = spectral_normalize(self, w, update_stats)
        y = x.astype(self.dtype) @ w.astype(self.dtype)
        if self.use_bias:
            y = y + self.param("bias", self.bias_init, (self.features,)).astype(y.dtype)
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


class DownConv(nn.Module):
    """4x4 stride-2 convolution halving H and W (PyTorch ``Conv2d(k=4, s=2, p=1)``).

    Its only parameter is ``kernel`` (4, 4, Cin, Cout), as `nn.Conv`'s, so checkpoints of
    the DCGAN discriminator are the same whichever mode computes it.
    """

    features: int
    mode: str = "s2d"  # "s2d" (space-to-depth + matmul) | "conv" (lax.conv): same map
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
