"""Class-conditional DCGAN-style generator and the projection discriminator.

* `ConditionalGenerator`: the DCGAN generator (`dcgan.py`: dense to 4x4, 4x4 stride-2
  up-convolutions, tanh) with every batch norm made class-conditional (`CondBatchNorm`,
  per-class scale and shift, de Vries et al. 2017), the conditioning that SNGAN-projection
  and BigGAN use instead of concatenating a one-hot label to z.
* `ProjectionDiscriminator`: the "standard CNN" of the SNGAN paper (Miyato et al. 2018,
  Table 3: pairs of 3x3 stride-1 and 4x4 stride-2 convolutions, LeakyReLU 0.1, widths
  doubling per level, a final 3x3 convolution and a linear layer), spectrally normalized,
  with Miyato & Koyama 2018's projection ``logit = psi(phi(x)) + <embed(y), phi(x)>``.
  With ``num_classes == 0`` it is the unconditional SN-CNN discriminator of SNGAN.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.family import register_model
from jaxgan.models.layers import DCGAN_INIT, CondBatchNorm, SNConv, SNDense, SNEmbed, UpConv
from jaxgan.schema import Config


def _levels(resolution: int) -> int:
    n = int(math.log2(resolution)) - 2
    if resolution < 8 or 2 ** (n + 2) != resolution:
        raise ValueError(f"conditional models need a power-of-two resolution >= 8, got "
                         f"{resolution}")
    return n


class ConditionalGenerator(nn.Module):
    resolution: int = 32
    channels: int = 1
    width: int = 64
    num_classes: int = 10
    upsample: str = "fast"
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        n = _levels(self.resolution)
        ch = self.width * 2 ** (n - 1)

        def bn(h, name):
            return CondBatchNorm(self.num_classes, self.bn_axis_name, self.dtype, name=name)(
                h, y, train)

        if self.num_classes > 0:  # also feed the label to the first layer (Mirza 2014):
            y = jnp.zeros((z.shape[0],), jnp.int32) if y is None else y  # faster to learn
            z = jnp.concatenate([z, jax.nn.one_hot(y, self.num_classes, dtype=z.dtype)], -1)
        h = nn.Dense(4 * 4 * ch, use_bias=False, kernel_init=DCGAN_INIT, dtype=self.dtype)(z)
        h = nn.relu(bn(h.reshape(z.shape[0], 4, 4, ch), "bn_in"))
        for i in range(n - 1):
            ch //= 2
            h = UpConv(ch, self.upsample, dtype=self.dtype, name=f"up{i}")(h)
            h = nn.relu(bn(h, f"bn{i}"))
        h = UpConv(self.channels, self.upsample, use_bias=True, dtype=self.dtype,
                   name="to_image")(h)
        return jnp.tanh(h.astype(jnp.float32))


class ProjectionDiscriminator(nn.Module):
    resolution: int = 32
    width: int = 64
    num_classes: int = 10
    sn: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        n = _levels(self.resolution)
        h, ch = x.astype(self.dtype), self.width
        for i in range(n):
            h = SNConv(ch, (3, 3), sn=self.sn, dtype=self.dtype, name=f"conv{i}a")(h, train)
            h = nn.leaky_relu(h, 0.1)
            h = SNConv(ch, (4, 4), (2, 2), ((1, 1), (1, 1)), sn=self.sn, dtype=self.dtype,
                       name=f"conv{i}b")(h, train)
            h = nn.leaky_relu(h, 0.1)
            ch *= 2
        h = nn.leaky_relu(SNConv(ch, (3, 3), sn=self.sn, dtype=self.dtype, name="conv_out")(
            h, train), 0.1)
        feats = h.reshape(h.shape[0], -1).astype(jnp.float32)
        self.sow("intermediates", "features", feats)
        out = SNDense(1, sn=self.sn, name="linear")(feats, train)[:, 0]
        if self.num_classes > 0:
            y = jnp.zeros((x.shape[0],), jnp.int32) if y is None else y
            emb = SNEmbed(self.num_classes, feats.shape[-1], sn=self.sn, name="embed")(y, train)
            out = out + jnp.sum(emb * feats, axis=-1)
        return out.astype(jnp.float32)


def _cond_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ConditionalGenerator(cfg.data.resolution, cfg.data.channels, cfg.model.g_width,
                                cfg.model.num_classes, cfg.model.upsample, bn_axis, dtype)


def _proj_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ProjectionDiscriminator(cfg.data.resolution, cfg.model.d_width,
                                   cfg.model.num_classes, cfg.model.spectral_norm, dtype)


# "conditional": the cGAN generator; "projection": SN-CNN D (+ projection with classes)
register_model("conditional", generator=_cond_g)
register_model("projection", discriminator=_proj_d)
