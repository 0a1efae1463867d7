"""Progressive GAN (Karras et al. 2018): growing from 4x4 with fade-in, pixel norm,
minibatch standard deviation and the equalized learning rate.

Layers (the paper's Section 4 and Table 2, CelebA-HQ network at any power of two):

* `EqDense` / `EqConv`: weights drawn N(0, 1) and scaled at run time by He's constant
  ``sqrt(2 / fan_in)``, so Adam's per-parameter step is the same relative change for
  every layer ("equalized learning rate", Sec. 4.1);
* `pixel_norm`: each pixel's feature vector divided by its RMS (Sec. 4.2), after every
  generator convolution;
* `minibatch_stddev`: the standard deviation of every feature over groups of samples,
  averaged to one extra feature map at the discriminator's 4x4 block (Sec. 3).

Growth: `stage` s (static, so each stage is its own compiled program) makes the networks
work at ``4 * 2**s``; `alpha` in [0, 1] (traced, so one program serves the whole fade-in)
blends the new block's output with the upsampled (G) or downsampled (D) output of the
previous stage, exactly the paper's Figure 2. The parameters of every stage exist from
the start (the fully grown tree), so the state never changes structure while growing and a
checkpoint taken mid-growth restores into any stage.

`schedule(step, stage_steps, max_stage)` gives (stage, alpha) for an iteration: each
stage after the first fades in for `stage_steps` iterations and then trains stably for
`stage_steps`. It is a pure function of the step, so a resumed run continues in the same
stage and at the same alpha. `progressive_step` (`progan_growth.py`, with the data plan
and the config rules that follow from the schedule; wired in by `run.step_factory`) does
the growing inside the ordinary trainer, with ``lax.switch`` on the stage in one program;
the generator records the stage and alpha it trained at in its ``batch_stats``, so
inference of the fully grown module (the trainer's sample grids) shows that stage.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from flax import linen as nn

from jaxgan.models.family import register_model
from jaxgan.models.progan_growth import (  # noqa: F401  (re-exported: progan.schedule, ...)
    ProGANConfig,
    _stages_of_batch,
    batch_plan,
    final_stage_state,
    progan_batch_plan,
    progressive_step,
    schedule,
    stage_batch_size,
    validate_batch_sizes,
    validate_progan,
)
from jaxgan.schema import Config


class EqDense(nn.Module):
    features: int
    gain: float = math.sqrt(2.0)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        w = self.param("kernel", nn.initializers.normal(1.0), (x.shape[-1], self.features))
        b = self.param("bias", nn.initializers.zeros, (self.features,))
        return x @ (w * (self.gain / math.sqrt(x.shape[-1]))) + b


class EqConv(nn.Module):
    features: int
    kernel: int = 3
    gain: float = math.sqrt(2.0)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        k = self.kernel
        w = self.param("kernel", nn.initializers.normal(1.0), (k, k, x.shape[-1],
                                                               self.features))
        b = self.param("bias", nn.initializers.zeros, (self.features,))
        scale = self.gain / math.sqrt(k * k * x.shape[-1])
        y = jax.lax.conv_general_dilated(x, w * scale, (1, 1), "SAME",
                                         dimension_numbers=("NHWC", "HWIO", "NHWC"))
        return y + b


def pixel_norm(x: jax.Array, eps: float = 1e-8) -> jax.Array:
    return x * jax.lax.rsqrt(jnp.mean(jnp.square(x), axis=-1, keepdims=True) + eps)


def minibatch_stddev(x: jax.Array, group: int = 4) -> jax.Array:
    """Append one feature map: the mean over features and pixels of the per-group std."""
    b = x.shape[0]
    g = min(group, b)
    if b % g:
        g = 1 if b == 1 else math.gcd(b, g)
    y = x.reshape(g, b // g, *x.shape[1:]).astype(jnp.float32)
    std = jnp.sqrt(jnp.var(y, axis=0) + 1e-8)  # (b/g, H, W, C)
    s = jnp.mean(std, axis=(1, 2, 3))  # (b/g,)
    s = jnp.tile(s, g)[:, None, None, None]  # sample i belongs to group i % (b/g)
    return jnp.concatenate([x, jnp.broadcast_to(s, (*x.shape[:3], 1)).astype(x.dtype)], -1)


def _up(x):
    return jnp.repeat(jnp.repeat(x, 2, axis=1), 2, axis=2)


def _down(x):
    return nn.avg_pool(x, (2, 2), (2, 2))


def stage_widths(max_stage: int, width: int) -> list[int]:
    """Channels per resolution 4, 8, ...: the paper's 512 halving from 64x64 on (capped)."""
    return [max(int(width * 8 * 2.0 ** min(0, 3 - s)), 1) for s in range(max_stage + 1)]


class ProGANGenerator(nn.Module):
    resolution: int = 128
    channels: int = 3
    width: int = 64  # the 4x4 block has 8 * width channels (512 for width 64)
    stage: int = -1  # -1: fully grown (log2(resolution) - 2)
    dtype: jnp.dtype = jnp.float32
    alpha: Any = 1.0  # fade-in of the newest block; a call's `alpha` overrides it

    @property
    def max_stage(self) -> int:
        return int(math.log2(self.resolution)) - 2

    @nn.compact
    def __call__(self, z: jax.Array, y: jax.Array | None = None, train: bool = True,
                 alpha: float | jax.Array | None = None) -> jax.Array:
        """Training (a stage's clone): that stage at `alpha`, recorded in ``batch_stats``.
        Inference of the fully grown module (``stage=-1``, e.g. the trainer's sample grids):
        the recorded stage and alpha, so mid-growth samples show what is being trained."""
        del y
        alpha = self.alpha if alpha is None else alpha
        ch = stage_widths(self.max_stage, self.width)
        dense = EqDense(4 * 4 * ch[0], gain=math.sqrt(2) / 4, name="b0_dense")
        conv0 = EqConv(ch[0], name="b0_conv")
        convs = {(s, j): EqConv(ch[s], name=f"b{s}_conv{j}")
                 for s in range(1, self.max_stage + 1) for j in range(2)}
        to_rgb = [EqConv(self.channels, 1, gain=1.0, name=f"to_rgb{s}")
                  for s in range(self.max_stage + 1)]
        grow = self.variable("batch_stats", "grow",
                             lambda: jnp.array([self.max_stage, 1.0], jnp.float32))

        def synth(stage: int, a):
            h = pixel_norm(z)
            h = pixel_norm(nn.leaky_relu(dense(h).reshape(-1, 4, 4, ch[0]), 0.2))
            h = pixel_norm(nn.leaky_relu(conv0(h), 0.2))
            prev = h
            for s in range(1, stage + 1):
                prev, h = h, _up(h)
                for j in range(2):
                    h = pixel_norm(nn.leaky_relu(convs[s, j](h), 0.2))
            img = to_rgb[stage](h)
            if stage > 0:  # fade-in: blend with the previous stage's upsampled image
                img = _up(to_rgb[stage - 1](prev)) * (1.0 - a) + img * a
            # outputs below full size are shown (and compared) at full size, upsampled
            for _ in range(stage, self.max_stage):
                img = _up(img)
            return img, h

        if self.stage < 0 and not train and self.max_stage > 0:
            stage_now, a_now = grow.value[0].astype(jnp.int32), grow.value[1]
            outs = [synth(s, a_now)[0] for s in range(self.max_stage + 1)]
            return jnp.stack(outs)[stage_now].astype(jnp.float32)
        stage = self.max_stage if self.stage < 0 else self.stage
        img, h = synth(stage, alpha)
        if train and self.stage >= 0 and self.is_mutable_collection("batch_stats") \
                and not self.is_initializing():
            grow.value = jnp.array([stage, alpha], jnp.float32)
        if self.is_initializing():  # create every stage's parameters once
            for s in range(stage + 1, self.max_stage + 1):
                h = _up(h)
                for j in range(2):
                    h = convs[s, j](h)
            for s in set(range(self.max_stage + 1)) - {stage, stage - 1}:
                to_rgb[s](jnp.zeros((1, 4, 4, ch[s])))
        return img.astype(jnp.float32)


class ProGANDiscriminator(nn.Module):
    resolution: int = 128
    width: int = 64
    stage: int = -1
    dtype: jnp.dtype = jnp.float32
    alpha: Any = 1.0

    @property
    def max_stage(self) -> int:
        return int(math.log2(self.resolution)) - 2

    def _block(self, s: int, ch: list[int], h: jax.Array) -> jax.Array:
        h = nn.leaky_relu(EqConv(ch[s], name=f"b{s}_conv0")(h), 0.2)
        h = nn.leaky_relu(EqConv(ch[s - 1], name=f"b{s}_conv1")(h), 0.2)
        return _down(h)

    @nn.compact
    def __call__(self, x: jax.Array, y: jax.Array | None = None, train: bool = True,
                 alpha: float | jax.Array | None = None) -> jax.Array:
        del y, train
        alpha = self.alpha if alpha is None else alpha
        stage = self.max_stage if self.stage < 0 else self.stage
        ch = stage_widths(self.max_stage, self.width)
        from_rgb = [EqConv(ch[s], 1, name=f"from_rgb{s}") for s in range(self.max_stage + 1)]
        if self.is_initializing():  # create the blocks above this stage once
            t = jnp.zeros((1, self.resolution, self.resolution, x.shape[-1]), x.dtype)
            if stage < self.max_stage:
                t = from_rgb[self.max_stage](t)
            for s in range(self.max_stage, stage, -1):
                t = self._block(s, ch, t)
            for s in set(range(self.max_stage + 1)) - {stage, stage - 1}:
                from_rgb[s](jnp.zeros((1, 4, 4, x.shape[-1])))
        for _ in range(stage, self.max_stage):  # full-size input -> this stage's size
            x = _down(x)
        h = nn.leaky_relu(from_rgb[stage](x), 0.2)
        if stage > 0:
            h = self._block(stage, ch, h)
            skip = nn.leaky_relu(from_rgb[stage - 1](_down(x)), 0.2)
            h = skip * (1.0 - alpha) + h * alpha
        for s in range(stage - 1, 0, -1):
            h = self._block(s, ch, h)
        h = minibatch_stddev(h)
        h = nn.leaky_relu(EqConv(ch[0], name="b0_conv")(h), 0.2)
        h = nn.leaky_relu(EqDense(ch[0], name="b0_dense")(h.reshape(h.shape[0], -1)), 0.2)
        self.sow("intermediates", "features", h.astype(jnp.float32))
        return EqDense(1, gain=1.0, name="logit")(h).reshape(x.shape[0]).astype(jnp.float32)


def _progan_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ProGANGenerator(cfg.data.resolution, cfg.data.channels, cfg.model.g_width, -1,
                           dtype)


def _progan_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ProGANDiscriminator(cfg.data.resolution, cfg.model.d_width, -1, dtype)


register_model("progan", _progan_g, _progan_d, paired=True, packable=False,
               spectral_norm=False, config=ProGANConfig, validate=validate_progan,
               wrap_step=progressive_step, sweepable=False, batch_plan=progan_batch_plan,
               bench_state=final_stage_state)
