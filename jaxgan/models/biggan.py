"""BigGAN (Brock et al. 2019): the class-conditional ResNet GAN that scaled GANs up.

What sets it apart from the SNGAN/SAGAN ResNets of `resnet.py`, and why:

* **A shared class embedding and hierarchical latents.** One embedding of the label
  (``model.biggan.shared_dim`` wide) is shared by every generator block instead of a
  per-class table in each batch norm; with ``model.biggan.hier`` the latent is split into
  ``blocks + 1`` equal chunks, the first feeding the 4x4 projection and one chunk per
  block, concatenated with the embedding. Each block's batch norms then get their scale
  and shift as linear functions of that vector (`LinearCondBatchNorm`): the latent acts
  on every resolution directly, and the class costs a few hundred parameters per block
  instead of a table per batch norm.
* **Spectral norm in G and D** (the layers of `layers.py`), self-attention after the block
  of ``model.attention_res`` (0: none; in G the 4x4 projection counts as a block), and
  the projection discriminator (Miyato & Koyama 2018) over SNGAN's residual down blocks
  (`resnet.DBlock`, reused).
* Widths follow the authors' code (BigGAN-PyTorch): up to 32x32 every G block has
  ``4 * model.g_width`` channels and every D block ``4 * model.d_width``; from 64x64 the
  widths fall from 16x towards the image (`g_widths`, `d_widths`).

The training side of the recipe lives elsewhere, in the generic switches it needs:
orthogonal regularization of G (``tricks.ortho_reg``, `jaxgan.regularizers`), the EMA
generator with a start step (``train.ema_decay``, ``train.ema_start``), the hinge loss and
truncation at sampling time (``jaxgan sample --truncation``); the presets are
`configs/biggan_digits.py` and `configs/biggan_cifar10.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.errors import ConfigError
from jaxgan.models.family import register_model
from jaxgan.models.layers import SelfAttention, SNConv, SNDense, SNEmbed
from jaxgan.models.resnet import DBlock, image_head, upsample2
from jaxgan.schema import Config

_GAIN2 = nn.initializers.variance_scaling(2.0, "fan_avg", "uniform")  # as resnet.GBlock's

# Width multipliers of the blocks from 64x64 up (BigGAN-PyTorch's / StudioGAN's tables):
# G: the projection's width, then each up block's output; D: each block's output and
# whether it halves the resolution.
_G_TABLE = {64: (16, (8, 4, 2, 1)), 128: (16, (16, 8, 4, 2, 1)),
            256: (16, (16, 8, 8, 4, 2, 1))}
_D_TABLE = {64: (1, 2, 4, 8, 16), 128: (1, 2, 4, 8, 16, 16), 256: (1, 2, 4, 8, 8, 16, 16)}


def _log2(resolution: int) -> int:
    n = int(math.log2(resolution))
    if resolution < 8 or 2 ** n != resolution or resolution > 256:
        raise ValueError(f"BigGAN needs a power-of-two resolution from 8 to 256, got "
                         f"{resolution}")
    return n


def num_blocks(resolution: int) -> int:
    """G's up blocks: from 4x4 to the image, one doubling each."""
    return _log2(resolution) - 2


def g_widths(resolution: int, width: int) -> tuple[int, tuple[int, ...]]:
    """(channels of the 4x4 projection, output channels of each up block)."""
    n = num_blocks(resolution)
    if resolution <= 32:
        return 4 * width, (4 * width,) * n
    first, outs = _G_TABLE[resolution]
    return first * width, tuple(m * width for m in outs)


def d_widths(resolution: int, width: int) -> tuple[tuple[int, bool], ...]:
    """(output channels, halves the resolution) of each D block. Up to 32x32: down to 8x8
    (4x4 for 8x8 images), then two blocks at that size, as BigGAN-PyTorch's 32x32 D."""
    n = _log2(resolution)
    if resolution <= 32:
        n_down = max(n - 3, 1)
        return tuple((4 * width, i < n_down) for i in range(n_down + 2))
    mults = _D_TABLE[resolution]
    return tuple((m * width, i < len(mults) - 1) for i, m in enumerate(mults))


def split_latent(z: jax.Array, blocks: int, hier: bool) -> tuple[jax.Array, list[jax.Array]]:
    """(the projection's input, one latent per block): with `hier`, ``blocks + 1`` equal
    chunks of z; without, all of z for the projection and nothing per block."""
    if not hier:
        return z, [z[:, :0]] * blocks
    chunks = jnp.split(z, blocks + 1, axis=-1)
    return chunks[0], chunks[1:]


class LinearCondBatchNorm(nn.Module):
    """Batch norm whose scale and shift are linear in a conditioning vector (BigGAN's
    ``ccbn``): ``BN(x) * (1 + W_g c) + W_b c``, no bias, the projections spectrally
    normalized like the rest of G. The ``1 +`` centres the scale on plain batch norm's, and
    a linear map (not a per-class table) is what lets the latent chunk condition it too.
    """

    sn: bool = True
    axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, cond: jax.Array, train: bool) -> jax.Array:
        c = x.shape[-1]
        h = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5,
                         use_scale=False, use_bias=False, axis_name=self.axis_name,
                         dtype=self.dtype)(x)
        gain = SNDense(c, sn=self.sn, use_bias=False, name="gain")(cond, train)
        bias = SNDense(c, sn=self.sn, use_bias=False, name="bias")(cond, train)
        gain, bias = gain[:, None, None, :].astype(h.dtype), bias[:, None, None, :].astype(h.dtype)
        return h * (1 + gain) + bias


class BigGANBlock(nn.Module):
    """The up block: cBN, ReLU, 2x nearest upsample, 3x3 conv, cBN, ReLU, 3x3 conv, plus a
    1x1-conv shortcut of the upsampled input (the residual path of `resnet.GBlock` with
    BigGAN's conditioning)."""

    features: int
    sn: bool = True
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, cond: jax.Array, train: bool) -> jax.Array:
        def conv(k, name, init=_GAIN2):
            return SNConv(self.features, (k, k), sn=self.sn, kernel_init=init,
                          dtype=self.dtype, name=name)

        def bn(name):
            return LinearCondBatchNorm(self.sn, self.bn_axis_name, self.dtype, name=name)

        h = nn.relu(bn("bn0")(x, cond, train))
        h = conv(3, "conv0")(upsample2(h), train)
        h = nn.relu(bn("bn1")(h, cond, train))
        h = conv(3, "conv1")(h, train)
        sc = conv(1, "shortcut", nn.initializers.xavier_uniform())(upsample2(x), train)
        return h + sc


class BigGANGenerator(nn.Module):
    resolution: int = 32
    channels: int = 3
    width: int = 64
    num_classes: int = 10
    shared_dim: int = 128
    hier: bool = True
    attention_res: int = 0
    sn: bool = True
    bn_axis_name: str | None = None
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        first, outs = g_widths(self.resolution, self.width)
        z0, zs = split_latent(z, len(outs), self.hier)
        conds = zs
        if self.num_classes > 0:  # the shared embedding, joined to every block's chunk
            y = jnp.zeros((z.shape[0],), jnp.int32) if y is None else y
            shared = nn.Embed(self.num_classes, self.shared_dim, name="shared")(y)
            conds = [jnp.concatenate([shared, zi.astype(shared.dtype)], -1) for zi in zs]
        h = SNDense(4 * 4 * first, sn=self.sn, dtype=self.dtype, name="project")(z0, train)
        h = h.reshape(z.shape[0], 4, 4, first)
        if self.attention_res == 4:
            h = SelfAttention(self.sn, self.dtype, name="attention")(h, train)
        for i, (f, cond) in enumerate(zip(outs, conds, strict=True)):
            if cond.shape[-1] == 0:  # unconditional and not hierarchical: nothing to say
                cond = jnp.zeros((z.shape[0], 1), z.dtype)
            h = BigGANBlock(f, self.sn, self.bn_axis_name, self.dtype, name=f"block{i}")(
                h, cond, train)
            if h.shape[1] == self.attention_res:
                h = SelfAttention(self.sn, self.dtype, name="attention")(h, train)
        return image_head(h, self.channels, self.sn, self.bn_axis_name, self.dtype, train)


class BigGANDiscriminator(nn.Module):
    """Residual down blocks, ReLU, global sum pool, then the projection discriminator's
    logit ``psi(phi(x)) + <embed(y), phi(x)>`` (the embedding spectrally normalized)."""

    resolution: int = 32
    width: int = 64
    num_classes: int = 10
    attention_res: int = 0
    sn: bool = True
    dtype: jnp.dtype = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True
                 ) -> jax.Array:
        h = x.astype(self.dtype)
        attended = False
        for i, (f, down) in enumerate(d_widths(self.resolution, self.width)):
            h = DBlock(f, down=down, optimized=i == 0, sn=self.sn, dtype=self.dtype,
                       name=f"block{i}")(h, train)
            if h.shape[1] == self.attention_res and not attended:  # once, at the first
                h = SelfAttention(self.sn, self.dtype, name="attention")(h, train)
                attended = True
        feats = jnp.sum(nn.relu(h), axis=(1, 2)).astype(jnp.float32)
        self.sow("intermediates", "features", feats)
        # the class enters as an inner product with D's features, not as an input
        out = SNDense(1, sn=self.sn, name="linear")(feats, train)[:, 0]
        if self.num_classes > 0:
            y = jnp.zeros((x.shape[0],), jnp.int32) if y is None else y
            emb = SNEmbed(self.num_classes, feats.shape[-1], sn=self.sn, name="embed")(
                y, train)
            out = out + jnp.sum(emb * feats, axis=-1)
        return out.astype(jnp.float32)


def biggan_generator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    """Spectral norm in G always: it is part of what BigGAN is (as SAGAN's factory forces)."""
    m = cfg.model
    return BigGANGenerator(cfg.data.resolution, cfg.data.channels, m.g_width, m.num_classes,
                           m.biggan.shared_dim, m.biggan.hier, m.attention_res, True, bn_axis,
                           dtype)


def biggan_discriminator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return BigGANDiscriminator(cfg.data.resolution, m.d_width, m.num_classes,
                               m.attention_res, True, dtype)


@dataclass
class BigGANConfig:
    """``model.biggan.*``: BigGAN's shared class embedding and hierarchical latents."""

    shared_dim: int = 128  # width of G's shared class embedding
    hier: bool = True  # z split into chunks over the 4x4 projection and the blocks


def validate_biggan(cfg: Config, device_count: int | None = None) -> None:
    """BigGAN's own fields: a positive embedding width, and with hierarchical latents a
    ``model.latent_dim`` that splits evenly over the projection and the blocks."""
    m = cfg.model
    if m.biggan.shared_dim <= 0:
        raise ConfigError(f"model.biggan.shared_dim must be a positive integer, got "
                          f"{m.biggan.shared_dim}")
    if m.generator != "biggan":
        return
    try:
        slots = num_blocks(cfg.data.resolution) + 1
    except ValueError as e:
        raise ConfigError(f"model.generator=biggan: {e}") from None
    if m.biggan.hier and m.latent_dim % slots:
        raise ConfigError(f"model.latent_dim={m.latent_dim} must be a multiple of {slots} "
                          f"with model.biggan.hier=true at {cfg.data.resolution}x"
                          f"{cfg.data.resolution} (one chunk for the 4x4 projection and one "
                          f"per each of {slots - 1} blocks)")


register_model("biggan", biggan_generator, biggan_discriminator, packable=False,
               config=BigGANConfig, validate=validate_biggan)
