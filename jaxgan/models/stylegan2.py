"""StyleGAN2 (Karras et al. 2020): a mapping network to W, a style-modulated synthesis
network with a skip architecture, and a residual discriminator.

What sets it apart, and where each part lives:

* **Mapping network** (`MappingNetwork`): ``model.stylegan.mapping_layers`` equalized-LR
  dense layers at learning-rate multiplier ``model.stylegan.mapping_lr`` (0.01: W moves
  100x slower than the synthesis network), from the normalized z (joined to a class
  embedding when conditional) to w.
* **Synthesis** (`SynthesisNetwork`): a learned 4x4 constant, then per resolution two
  modulated 3x3 convolutions (the first upsampling through the FIR filter) with
  demodulation and per-pixel noise inputs scaled by a learned strength, and a ToRGB
  (modulated 1x1, no demodulation) whose output is added to the upsampled image of the
  resolution below: the skip generator of the paper's Figure 7.
* **Style mixing** (``model.stylegan.mixing``, the probability): in training a sample's
  ws switch at a random layer to those of a second latent, per sample.
* **w_avg**: the running mean of w (decay 0.995), kept in G's ``batch_stats`` so the
  step pmeans it, checkpoints carry it and resume is exact; truncation ``w_avg + psi (w -
  w_avg)`` reads it at sampling time (`truncation_psi`, set by ``jaxgan sample
  --truncation PSI``: any generator with a ``truncation_psi`` field truncates in its own
  latent space instead of z's).
* **Path length**: `path_length_reg` (the family's step part) penalizes
  ``(|J_w^T y| - a)^2`` with ``a`` the running mean ``pl_mean``, which also sits in G's
  ``batch_stats``; lazy, every ``model.stylegan.pl_every`` G steps, scaled by it.
* **Discriminator** (`StyleGAN2Discriminator`): FromRGB, residual blocks (1x1 FIR-downsampled
  skip and two 3x3 convolutions, both branches x sqrt(0.5)), then minibatch stddev over
  groups of ``model.stylegan.mbstd_group``, a 3x3 convolution and two dense layers.

Widths: a layer at resolution r has ``min(32 * width // r, width)`` channels
(``model.g_width`` / ``model.d_width`` is the maximum, the reference's channel_max, with
channel_base = 32 x it: 512 gives the paper's 16384 / 512 configuration). G's output is
linear, not squashed by tanh, as in the paper. Per-sample randomness (noise, mixing) comes
from each sample's latent (`stylegan_ops.latent_keys`). The ops are in `stylegan_ops.py`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.errors import ConfigError
from jaxgan.models import stylegan_ops as ops
from jaxgan.models.family import register_model
from jaxgan.schema import Config, OptimConfig

W_AVG_BETA = 0.995  # the reference's w_avg_beta
_NOISE, _MIX = 0, 1  # latent_keys streams


def channels_at(res: int, width: int) -> int:
    return min(32 * width // res, width)


def _log2(resolution: int) -> int:
    n = int(math.log2(resolution))
    if resolution < 8 or 2 ** n != resolution:
        raise ValueError(f"StyleGAN2 needs a power-of-two resolution >= 8, got {resolution}")
    return n


def num_ws(resolution: int) -> int:
    """How many w vectors the synthesis network reads: two per resolution from 8x8 (the
    second shared with ToRGB), one conv and one ToRGB at 4x4."""
    return 2 * _log2(resolution) - 2


class MappingNetwork(nn.Module):
    w_dim: int = 512
    num_layers: int = 8
    lr_mul: float = 0.01
    num_classes: int = 0

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None) -> jax.Array:
        x = ops.normalize_2nd_moment(z.astype(jnp.float32))
        if self.num_classes > 0:
            y = jnp.zeros((z.shape[0],), jnp.int32) if y is None else y
            e = ops.EqDense(self.w_dim, name="embed")(jax.nn.one_hot(y, self.num_classes))
            x = jnp.concatenate([x, ops.normalize_2nd_moment(e)], axis=-1)
        for i in range(self.num_layers):
            x = ops.EqDense(self.w_dim, self.lr_mul, act="lrelu", name=f"fc{i}")(x)
        return x


class SynthesisLayer(nn.Module):
    """Modulated 3x3 conv (demodulated; 2x upsampling when `up`), noise, bias, lrelu."""

    features: int
    up: bool = False

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array, keys: jax.Array) -> jax.Array:
        styles = ops.EqDense(x.shape[-1], bias_init=1.0, name="affine")(w)
        kernel = self.param("kernel", nn.initializers.normal(1.0),
                            (3, 3, x.shape[-1], self.features))
        x = ops.modulated_conv(x, kernel, styles, demodulate=True, up=self.up)
        strength = self.param("noise_strength", nn.initializers.zeros, ())
        noise = jax.vmap(lambda k: jax.random.normal(k, (*x.shape[1:3], 1)))(keys)
        bias = self.param("bias", nn.initializers.zeros, (self.features,))
        return ops.bias_act(x + noise.astype(x.dtype) * strength, bias, "lrelu")


class ToRGB(nn.Module):
    channels: int

    @nn.compact
    def __call__(self, x: jax.Array, w: jax.Array) -> jax.Array:
        styles = ops.EqDense(x.shape[-1], bias_init=1.0, name="affine")(w)
        styles = styles / math.sqrt(x.shape[-1])  # the 1x1 kernel's equalized-LR gain
        kernel = self.param("kernel", nn.initializers.normal(1.0),
                            (1, 1, x.shape[-1], self.channels))
        x = ops.modulated_conv(x, kernel, styles, demodulate=False)
        return ops.bias_act(x, self.param("bias", nn.initializers.zeros, (self.channels,)))


class SynthesisNetwork(nn.Module):
    resolution: int
    channels: int
    width: int

    @nn.compact
    def __call__(self, ws: jax.Array, keys: jax.Array) -> jax.Array:
        n = ws.shape[0]
        c4 = channels_at(4, self.width)
        const = self.param("const", nn.initializers.normal(1.0), (4, 4, c4))
        x = jnp.broadcast_to(const, (n, 4, 4, c4))

        def layer_keys(i: int) -> jax.Array:
            return jax.vmap(lambda k: jax.random.fold_in(k, i))(keys)

        x = SynthesisLayer(c4, name="b4_conv1")(x, ws[:, 0], layer_keys(0))
        img = ToRGB(self.channels, name="b4_torgb")(x, ws[:, 1])
        i = 1
        for log_res in range(3, _log2(self.resolution) + 1):
            res, c = 2 ** log_res, channels_at(2 ** log_res, self.width)
            x = SynthesisLayer(c, up=True, name=f"b{res}_conv0")(x, ws[:, i], layer_keys(i))
            x = SynthesisLayer(c, name=f"b{res}_conv1")(x, ws[:, i + 1], layer_keys(i + 1))
            img = ops.upsample2d(img) + ToRGB(self.channels, name=f"b{res}_torgb")(
                x, ws[:, i + 2])
            i += 2
        return img


class StyleGAN2Generator(nn.Module):
    """``G(z, y, train)``: mapping, style mixing (train), truncation (`truncation_psi`,
    inference), synthesis. `mapping`, `styles` and `synthesize` are the pieces the
    path-length regularizer differentiates between."""

    resolution: int
    channels: int = 3
    width: int = 512
    w_dim: int = 512
    mapping_layers: int = 8
    mapping_lr: float = 0.01
    num_classes: int = 0
    mixing: float = 0.9
    truncation_psi: float = 1.0  # sampling only: 1 is no truncation
    dtype: Any = jnp.float32

    def setup(self) -> None:
        self.mapping_net = MappingNetwork(self.w_dim, self.mapping_layers, self.mapping_lr,
                                          self.num_classes)
        self.synthesis_net = SynthesisNetwork(self.resolution, self.channels, self.width)
        self.w_avg = self.variable("batch_stats", "w_avg", jnp.zeros, (self.w_dim,))
        # the path-length regularizer's running mean of |J^T y| (updated by it, not here)
        self.pl_mean = self.variable("batch_stats", "pl_mean", jnp.zeros, ())

    def styles(self, z: jax.Array, y: jax.Array | None, train: bool,
               update_avg: bool = False) -> jax.Array:
        """(N, num_ws, w_dim): each sample's w for every layer, mixed (train) or
        truncated towards w_avg (inference)."""
        n_ws = num_ws(self.resolution)
        w = self.mapping_net(z, y)
        if update_avg and not self.is_initializing():
            mean = jnp.mean(w, axis=0)
            self.w_avg.value = mean + W_AVG_BETA * (self.w_avg.value - mean)
        ws = jnp.broadcast_to(w[:, None], (w.shape[0], n_ws, self.w_dim))
        if train and self.mixing > 0:
            keys = ops.latent_keys(z, _MIX)
            z2 = jax.vmap(lambda k: jax.random.normal(k, z.shape[1:], z.dtype))(keys)
            w2 = self.mapping_net(z2, y)

            def cutoff(k: jax.Array) -> jax.Array:
                k_use, k_at = jax.random.split(jax.random.fold_in(k, 1))
                at = jax.random.randint(k_at, (), 1, n_ws)
                return jnp.where(jax.random.uniform(k_use) < self.mixing, at, n_ws)

            cut = jax.vmap(cutoff)(keys)
            ws = jnp.where(jnp.arange(n_ws)[None, :, None] >= cut[:, None, None],
                           w2[:, None], ws)
        if not train and self.truncation_psi != 1.0:
            ws = self.w_avg.value + self.truncation_psi * (ws - self.w_avg.value)
        return ws

    def synthesize(self, ws: jax.Array, z: jax.Array) -> jax.Array:
        return self.synthesis_net(ws.astype(self.dtype), ops.latent_keys(z, _NOISE))

    def __call__(self, z: jax.Array, y: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        ws = self.styles(z, y, train, update_avg=train)
        return self.synthesize(ws, z).astype(jnp.float32)


class DBlock(nn.Module):
    """The residual down block: (skip 1x1 down + 3x3, 3x3 down) x sqrt(0.5)."""

    features: int
    out_features: int

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        g = math.sqrt(0.5)
        y = ops.EqConv(self.out_features, 1, use_bias=False, resample="down", gain=g,
                       name="skip")(x)
        x = ops.EqConv(self.features, 3, act="lrelu", name="conv0")(x)
        x = ops.EqConv(self.out_features, 3, act="lrelu", resample="down", gain=g,
                       name="conv1")(x)
        return x + y


class StyleGAN2Discriminator(nn.Module):
    resolution: int
    width: int = 512
    num_classes: int = 0
    mbstd_group: int = 4
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None,
                 train: bool = True) -> jax.Array:
        del train  # no batch statistics: the same function in both modes
        r = self.resolution
        h = ops.EqConv(channels_at(r, self.width), 1, act="lrelu", name="fromrgb")(
            x.astype(self.dtype))
        for log_res in range(_log2(r), 2, -1):
            res = 2 ** log_res
            h = DBlock(channels_at(res, self.width), channels_at(res // 2, self.width),
                       name=f"b{res}")(h)
        c4 = channels_at(4, self.width)
        h = ops.minibatch_stddev(h, self.mbstd_group)
        h = ops.EqConv(c4, 3, act="lrelu", name="b4_conv")(h)
        feats = ops.EqDense(c4, act="lrelu", name="b4_fc")(h.reshape(h.shape[0], -1))
        feats = feats.astype(jnp.float32)
        self.sow("intermediates", "features", feats)
        if self.num_classes <= 0:
            return ops.EqDense(1, name="out")(feats)[:, 0]
        # conditional: the projection of the reference (cmap of the label, scaled inner product)
        y = jnp.zeros((x.shape[0],), jnp.int32) if y is None else y
        out = ops.EqDense(c4, name="out")(feats)
        cmap = ops.EqDense(c4, name="cmap")(jax.nn.one_hot(y, self.num_classes))
        return jnp.sum(out * cmap, axis=-1) / math.sqrt(c4)


def lazy_optim(c: OptimConfig, every: int) -> OptimConfig:
    """Adam corrected for a regularizer applied every `every` updates (the reference's
    ``mb_ratio = every / (every + 1)``: lr times it, both betas to its power), because
    lazy steps make each update count for (every + 1) / every of a minibatch. In place,
    for presets; returns `c`."""
    ratio = every / (every + 1)
    c.lr, c.b1, c.b2 = c.lr * ratio, c.b1 ** ratio, c.b2 ** ratio
    return c


def stylegan2_generator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return StyleGAN2Generator(cfg.data.resolution, cfg.data.channels, m.g_width,
                              m.stylegan.w_dim, m.stylegan.mapping_layers,
                              m.stylegan.mapping_lr, m.num_classes, m.stylegan.mixing,
                              dtype=dtype)


def stylegan2_discriminator(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    m = cfg.model
    return StyleGAN2Discriminator(cfg.data.resolution, m.d_width, m.num_classes,
                                  m.stylegan.mbstd_group, dtype)


@dataclass
class StyleGANConfig:
    """``model.stylegan.*``: StyleGAN2's mapping network, mixing, D's minibatch stddev and
    the path-length regularizer."""

    w_dim: int = 512  # width of W (the mapping network's layers)
    mapping_layers: int = 8  # dense layers of the mapping network
    mapping_lr: float = 0.01  # the mapping network's lr multiplier
    mixing: float = 0.9  # probability of style mixing per sample
    mbstd_group: int = 4  # D's minibatch-stddev group size
    pl_weight: float = 0.0  # path-length regularization weight (the paper's 2)
    pl_every: int = 4  # lazy path length, every this many G steps
    pl_batch_shrink: int = 2  # path length on 1/this of the batch


def validate_stylegan2(cfg: Config, device_count: int | None = None) -> None:
    """StyleGAN2's own fields, and a global batch that splits into stddev groups."""
    m = cfg.model
    for key in ("w_dim", "mapping_layers", "mbstd_group", "pl_every"):
        if getattr(m.stylegan, key) <= 0:
            raise ConfigError(f"model.stylegan.{key} must be a positive integer, got "
                              f"{getattr(m.stylegan, key)}")
    if not m.stylegan.mapping_lr > 0:
        raise ConfigError(f"model.stylegan.mapping_lr must be > 0, got "
                          f"{m.stylegan.mapping_lr}")
    if not 0.0 <= m.stylegan.mixing <= 1.0:
        raise ConfigError(f"model.stylegan.mixing is a probability in [0, 1], got "
                          f"{m.stylegan.mixing}")
    if m.stylegan.pl_weight < 0:
        raise ConfigError(f"model.stylegan.pl_weight must be >= 0, got "
                          f"{m.stylegan.pl_weight}")
    if m.stylegan.pl_weight > 0 and m.generator != "stylegan2":
        raise ConfigError(f"model.stylegan.pl_weight regularizes StyleGAN2's W space; "
                          f"model.generator={m.generator!r} has none (set it to 0)")
    if m.discriminator == "stylegan2":
        g = m.stylegan.mbstd_group
        if cfg.train.batch_size % g:
            raise ConfigError(f"train.batch_size={cfg.train.batch_size} must be a multiple "
                              f"of model.stylegan.mbstd_group={g} (D's stddev groups)")


def _step_parts(cfg: Config) -> Any:
    from jaxgan.models.stylegan2_reg import path_length_parts

    return path_length_parts(cfg)


register_model("stylegan2", stylegan2_generator, stylegan2_discriminator, packable=False,
               spectral_norm=False, config=StyleGANConfig, section="stylegan",
               validate=validate_stylegan2, step_parts=_step_parts)
