"""SNGAN's ResNet generator and discriminator (Miyato et al. 2018, Appendix B, Table 4),
with the class-conditional options of Miyato & Koyama 2018 and SAGAN's self-attention.

The CIFAR-10 layout (32x32, G width 256, D width 128) is:

* G: z -> dense to 4x4xW -> ResBlock-up x3 (BN, ReLU, nearest 2x upsample, 3x3 conv,
  BN, ReLU, 3x3 conv; 1x1-conv shortcut after the upsample) -> BN, ReLU, 3x3 conv, tanh.
* D: OptimizedBlock-down -> ResBlock-down -> ResBlock -> ResBlock -> ReLU -> global sum
  pool -> dense, spectral norm on every weight; residual paths are pre-activation
  (ReLU, conv, ReLU, conv, 2x2 average pool).

For other resolutions G gets ``log2(res) - 2`` up blocks and D downsamples to 8x8 (or
to 4x4 for res <= 8) before two full-resolution blocks, which is the 32x32 network again.
Upsampling is nearest + stride-1 convolution, cheap on every backend (see DESIGN.md).

Conditioning (``num_classes > 0``): the generator's batch norms become class-conditional
(`CondBatchNorm`), and the discriminator adds the projection term ``<embed(y), phi(x)>``
to its linear output. ``attention_res`` inserts a `SelfAttention` block after the block
whose output has that resolution (SAGAN); ``g_sn`` spectrally normalizes G too (SAGAN).
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.family import register_model
from jaxgan.models.layers import CondBatchNorm, SelfAttention, SNConv, SNDense, SNEmbed

_GAIN2 = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")  # xavier, gain sqrt 2


def upsample2(x: jax.Array) -> jax.Array:
    """Nearest-neighbour 2x upsampling."""
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def downsample2(x: jax.Array) -> jax.Array:
    """2x2 average pooling."""
    return nn.avg_pool(x, (2, 2), (2, 2))


def _log2_res(resolution: int) -> int:
    n = int(math.log2(resolution))
    if resolution < 8 or 2 ** n != resolution:
        raise ValueError(f"ResNet GANs need a power-of-two resolution >= 8, got {resolution}")
    return n


class GBlock(nn.Module):
    features: int
    num_classes: int = 0
    sn: bool = False
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None, train: bool) -> jax.Array:
        def conv(f, k, name, init=_GAIN2):
            return SNConv(f, (k, k), sn=self.sn, kernel_init=init, dtype=self.dtype, name=name)

        def bn(name):
            return CondBatchNorm(self.num_classes, self.bn_axis_name, self.dtype, name=name)

        h = nn.relu(bn("bn0")(x, y, train))
        h = conv(self.features, 3, "conv0")(upsample2(h), train)
        h = nn.relu(bn("bn1")(h, y, train))
        h = conv(self.features, 3, "conv1")(h, train)
        sc = conv(self.features, 1, "shortcut", nn.initializers.xavier_uniform())(
            upsample2(x), train)
        return h + sc


class DBlock(nn.Module):
    features: int
    down: bool = True
    optimized: bool = False  # the first block: no pre-activation, pool before shortcut conv
    sn: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, train: bool) -> jax.Array:
        def conv(f, k, name, init=_GAIN2):
            return SNConv(f, (k, k), sn=self.sn, kernel_init=init, dtype=self.dtype, name=name)

        h = x if self.optimized else nn.relu(x)
        h = conv(self.features, 3, "conv0")(h, train)
        h = conv(self.features, 3, "conv1")(nn.relu(h), train)
        if self.down:
            h = downsample2(h)
        sc = x
        if self.optimized:
            sc = conv(self.features, 1, "shortcut", nn.initializers.xavier_uniform())(
                downsample2(x), train)
        elif self.down or x.shape[-1] != self.features:
            sc = conv(self.features, 1, "shortcut", nn.initializers.xavier_uniform())(x, train)
            if self.down:
                sc = downsample2(sc)
        return h + sc


class ResNetGenerator(nn.Module):
    resolution: int = 32
    channels: int = 3
    width: int = 256
    num_classes: int = 0
    attention_res: int = 0  # 0: no self-attention
    sn: bool = False  # SAGAN: spectral norm in G too
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        n_up = _log2_res(self.resolution) - 2
        h = SNDense(4 * 4 * self.width, sn=self.sn, dtype=self.dtype, name="project")(z, train)
        h = h.reshape(z.shape[0], 4, 4, self.width)
        for i in range(n_up):
            h = GBlock(self.width, self.num_classes, self.sn, self.bn_axis_name, self.dtype,
                       name=f"block{i}")(h, y, train)
            if h.shape[1] == self.attention_res:
                h = SelfAttention(self.sn, self.dtype, name="attention")(h, train)
        return image_head(h, self.channels, self.sn, self.bn_axis_name, self.dtype, train)


def image_head(h: jax.Array, channels: int, sn: bool, bn_axis_name: str | None, dtype: Any,
               train: bool) -> jax.Array:
    """The residual generators' last layers (SNGAN's and BigGAN's): BN, ReLU, a 3x3
    spectrally normalized convolution to the image, tanh in float32. Called inside a
    compact `__call__`, its layers belong to the caller (`bn_out`, `to_image`)."""
    h = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                     axis_name=bn_axis_name, dtype=dtype, name="bn_out")(h)
    h = SNConv(channels, (3, 3), sn=sn, dtype=dtype, name="to_image")(nn.relu(h), train)
    return jnp.tanh(h.astype(jnp.float32))


class ResNetDiscriminator(nn.Module):
    """One logit per image; with classes, the projection discriminator's logit."""

    resolution: int = 32
    width: int = 128
    num_classes: int = 0
    attention_res: int = 0
    sn: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        n = _log2_res(self.resolution)
        n_down = max(n - 3, 1)
        h = x.astype(self.dtype)
        for i in range(n_down + 2):
            h = DBlock(self.width, down=i < n_down, optimized=i == 0, sn=self.sn,
                       dtype=self.dtype, name=f"block{i}")(h, train)
            if h.shape[1] == self.attention_res and i < n_down:
                h = SelfAttention(self.sn, self.dtype, name="attention")(h, train)
        feats = jnp.sum(nn.relu(h), axis=(1, 2)).astype(jnp.float32)
        self.sow("intermediates", "features", feats)
        out = SNDense(1, sn=self.sn, name="linear")(feats, train)[:, 0]
        if self.num_classes > 0:
            y = jnp.zeros((x.shape[0],), jnp.int32) if y is None else y
            emb = SNEmbed(self.num_classes, feats.shape[-1], sn=self.sn, name="embed")(y, train)
            out = out + jnp.sum(emb * feats, axis=-1)
        return out.astype(jnp.float32)


def _resnet_g(cfg, dtype, bn_axis) -> nn.Module:
    m = cfg.model
    return ResNetGenerator(cfg.data.resolution, cfg.data.channels, m.g_width, m.num_classes,
                           m.attention_res, m.g_spectral_norm, bn_axis, dtype)


def _resnet_d(cfg, dtype, bn_axis) -> nn.Module:
    m = cfg.model
    return ResNetDiscriminator(cfg.data.resolution, m.d_width, m.num_classes, m.attention_res,
                               m.spectral_norm, dtype)


# model.generator / model.discriminator = "resnet" (SNGAN; projection D when num_classes > 0)
register_model("resnet", _resnet_g, _resnet_d)
