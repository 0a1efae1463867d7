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
stage and at the same alpha. `progressive_step` (wired in by `run.step_factory`) does
the growing inside the ordinary trainer, with ``lax.switch`` on the stage in one program;
the generator records the stage and alpha it trained at in its ``batch_stats``, so
inference of the fully grown module (the trainer's sample grids) shows that stage.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from flax import linen as nn

from jaxgan.errors import ConfigError
from jaxgan.models.family import register_model
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


def schedule(step: int | jax.Array, stage_steps: int, max_stage: int
             ) -> tuple[Any, Any]:
    """(stage, alpha) at `step`: stage 0 stable for `stage_steps`, then for every later
    stage `stage_steps` of fade-in (alpha 0 -> 1) and `stage_steps` stable."""
    step = np.asarray(step) if not isinstance(step, jax.Array) else step
    k = step // stage_steps  # phases completed
    stage = jnp.minimum((k + 1) // 2, max_stage)
    fading = (k % 2 == 1) & (k < 2 * max_stage)
    alpha = jnp.where(fading, (step - k * stage_steps) / stage_steps, 1.0)
    return stage, alpha


def stage_batch_size(cfg: Config, stage: int) -> int:
    """The global batch of `stage` (``model.progan_batch_sizes``, the last entry repeating;
    ``train.batch_size`` when the list is empty)."""
    sizes = cfg.model.progan_batch_sizes
    return sizes[min(stage, len(sizes) - 1)] if sizes else cfg.train.batch_size


def batch_plan(cfg: Config) -> Any:
    """``plan(k) -> (index, global_batch)``: what to ask the data source for critic round k
    (``step * n_critic + i``), so that the run reads its data as one contiguous stream
    whatever the stage's batch: round k starts at sample ``P_k``, the sum of the batches
    before it, and ``source.batch(P_k // b, b)`` serves exactly samples ``[P_k, P_k + b)``
    (`validate_batch_sizes` ensures ``b`` divides ``P_k``). A pure function of k, so a
    resumed run reads what an uninterrupted one would.
    """
    t, nc = cfg.model.progan_stage_steps, cfg.train.n_critic
    max_stage = max(cfg.data.resolution.bit_length() - 3, 0)

    def plan(k: int) -> tuple[int, int]:
        step, i = divmod(k, nc)
        stage = min((step // t + 1) // 2, max_stage)  # `schedule`'s, on the host
        b = stage_batch_size(cfg, stage)
        before, phase_start = 0, 0  # samples drawn in the phases that ended before `step`
        for phase in range(2 * max_stage + 1):
            end = (phase + 1) * t if phase < 2 * max_stage else step
            n = min(end, step) - phase_start
            if n <= 0:
                break
            before += n * nc * stage_batch_size(cfg, (phase + 1) // 2)
            phase_start = end
        return (before + i * b) // b, b

    return plan


def validate_batch_sizes(cfg: Config) -> None:
    """Per-stage batches must keep the data stream contiguous and the compiled calls whole.

    Batch k of the run starts at sample ``P_k = sum of the batches before it``; the data
    sources serve batches at multiples of their size, so every stage's batch must divide
    the samples drawn before that stage (true when each size divides the one before).
    """
    m, t = cfg.model, cfg.train
    sizes = m.progan_batch_sizes
    if m.generator != "progan":
        raise ConfigError("model.progan_batch_sizes applies to model.generator=progan only")
    if any(b <= 0 for b in sizes):
        raise ConfigError(f"model.progan_batch_sizes must be positive integers, got {sizes}")
    if t.batch_size != sizes[0]:
        raise ConfigError(f"train.batch_size={t.batch_size} must equal the first stage's "
                          f"batch, model.progan_batch_sizes[0]={sizes[0]}")
    if m.progan_stage_steps % t.steps_per_call:
        raise ConfigError(f"model.progan_stage_steps={m.progan_stage_steps} must be a multiple "
                          f"of train.steps_per_call={t.steps_per_call} with per-stage batches "
                          "(one compiled call runs at one batch size)")
    drawn = sizes[0] * m.progan_stage_steps * t.n_critic  # the 4x4 phase
    max_stage = max(cfg.data.resolution.bit_length() - 3, 0)  # log2(resolution) - 2
    for s, b in enumerate(sizes[1:max_stage + 1], start=1):
        if drawn % b:
            raise ConfigError(f"model.progan_batch_sizes: stage {s}'s batch {b} must divide "
                              f"the {drawn} samples drawn before it; use sizes that divide "
                              "the previous ones, e.g. 128,128,64,32,16")
        drawn += 2 * b * m.progan_stage_steps * t.n_critic



def _progan_g(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ProGANGenerator(cfg.data.resolution, cfg.data.channels, cfg.model.g_width, -1,
                           dtype)


def _progan_d(cfg: Config, dtype: Any, bn_axis: str | None) -> nn.Module:
    return ProGANDiscriminator(cfg.data.resolution, cfg.model.d_width, -1, dtype)


def validate_progan(cfg: Config) -> None:
    """ProGAN's own config fields: a positive phase length, and per-stage batches only on a
    growing run, with the stream rules of `validate_batch_sizes`."""
    if cfg.model.generator == "progan" and cfg.model.progan_stage_steps <= 0:
        raise ConfigError("model.progan_stage_steps must be a positive number of iterations")
    if cfg.model.progan_batch_sizes:
        validate_batch_sizes(cfg)


def progan_batch_plan(cfg: Config) -> Any:
    """`batch_plan` with per-stage batch sizes; None (round k's plain batch) without."""
    return batch_plan(cfg) if cfg.model.progan_batch_sizes else None


def final_stage_state(cfg: Config, models: Any, state: Any) -> Any:
    """`state` moved to the first step of the last stage: the stage `jaxgan bench` times,
    since XLA counts the FLOPs of a `lax.switch` as those of its costliest branch."""
    final = 2 * models.generator.max_stage * cfg.model.progan_stage_steps
    return state.replace(step=jax.device_put(jnp.asarray(final, jnp.int32),
                                             state.step.sharding))


def progressive_step(cfg: Config, models: Any, loss: Any, make_step: Any,
                     step_kwargs: dict[str, Any]) -> Any:
    """One train step that grows: ``lax.switch`` on the stage of ``state.step`` picks a
    step built for that stage's G and D (static shapes per stage), with alpha traced.

    Every stage's branch is compiled once, inside the one program; at run time only the
    current stage's branch executes, so early stages cost what their resolution costs.
    The parameter tree is the fully grown one in every branch, so the branches agree on
    the state's structure and metrics; a checkpoint taken mid-growth resumes in the same
    stage and alpha because both are functions of the restored step.
    """
    from jax import lax

    g, d = models.generator, models.discriminator
    max_stage = g.max_stage
    stage_steps = cfg.model.progan_stage_steps

    def branch(s: int):
        def run(state, batch):
            _, alpha = schedule(state.step, stage_steps, max_stage)
            gs, ds = g.clone(stage=s, alpha=alpha), d.clone(stage=s, alpha=alpha)
            step = make_step(models._replace(generator=gs, discriminator=ds), loss,
                             **step_kwargs)
            return step(state, batch)
        return run

    def step(state, batch):
        stage, _ = schedule(state.step, stage_steps, max_stage)
        metrics_stage = stage.astype(jnp.float32)
        stages = _stages_of_batch(cfg, batch, step_kwargs.get("axis_name"), max_stage)
        if len(stages) == 1:
            new_state, metrics = branch(stages[0])(state, batch)
        else:  # position of the stage among those that run at this batch size
            pos = jnp.sum(stage > jnp.asarray(stages))
            new_state, metrics = lax.switch(pos, [branch(s) for s in stages], state, batch)
        return new_state, {**metrics, "progan_stage": metrics_stage}

    return step



def _stages_of_batch(cfg: Config, batch: Any, axis_name: str | None, max_stage: int
                     ) -> list[int]:
    """The stages a program for this batch shape must hold: with per-stage batch sizes,
    those whose global batch it is (each stage is then compiled once, in the program of
    its batch size; the trainer feeds each step its stage's batch); otherwise all."""
    stages = list(range(max_stage + 1))
    if not cfg.model.progan_batch_sizes:
        return stages
    local = batch["image"].shape[1]
    n = jax.lax.axis_size(axis_name) if axis_name else 1
    mine = [s for s in stages if stage_batch_size(cfg, s) == local * n]
    return mine or stages


register_model("progan", _progan_g, _progan_d, paired=True, packable=False,
               spectral_norm=False, validate=validate_progan, wrap_step=progressive_step,
               sweepable=False, batch_plan=progan_batch_plan, bench_state=final_stage_state)
