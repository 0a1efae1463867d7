"""What ProGAN's growth schedule implies outside the networks: which stage and alpha an
iteration trains (`schedule`), which data batch each round reads (`batch_plan`), the config
rules of per-stage batches (`validate_batch_sizes`), the growing step (`progressive_step`)
and the stage `jaxgan bench` times (`final_stage_state`). The networks are `progan.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from jaxgan.errors import ConfigError
from jaxgan.schema import Config

__all__ = ["schedule", "stage_batch_size", "batch_plan", "validate_batch_sizes",
           "validate_progan", "progan_batch_plan", "final_stage_state", "progressive_step"]


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
    """The global batch of `stage` (``model.progan.batch_sizes``, the last entry repeating;
    ``train.batch_size`` when the list is empty)."""
    sizes = cfg.model.progan.batch_sizes
    return sizes[min(stage, len(sizes) - 1)] if sizes else cfg.train.batch_size


def batch_plan(cfg: Config) -> Any:
    """``plan(k) -> (index, global_batch)``: what to ask the data source for critic round k
    (``step * n_critic + i``), so that the run reads its data as one contiguous stream
    whatever the stage's batch: round k starts at sample ``P_k``, the sum of the batches
    before it, and ``source.batch(P_k // b, b)`` serves exactly samples ``[P_k, P_k + b)``
    (`validate_batch_sizes` ensures ``b`` divides ``P_k``). A pure function of k, so a
    resumed run reads what an uninterrupted one would.
    """
    t, nc = cfg.model.progan.stage_steps, cfg.train.n_critic
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
    sizes = m.progan.batch_sizes
    if m.generator != "progan":
        raise ConfigError("model.progan.batch_sizes applies to model.generator=progan only")
    if any(b <= 0 for b in sizes):
        raise ConfigError(f"model.progan.batch_sizes must be positive integers, got {sizes}")
    if t.batch_size != sizes[0]:
        raise ConfigError(f"train.batch_size={t.batch_size} must equal the first stage's "
                          f"batch, model.progan.batch_sizes[0]={sizes[0]}")
    if m.progan.stage_steps % t.steps_per_call:
        raise ConfigError(f"model.progan.stage_steps={m.progan.stage_steps} must be a multiple "
                          f"of train.steps_per_call={t.steps_per_call} with per-stage batches "
                          "(one compiled call runs at one batch size)")
    drawn = sizes[0] * m.progan.stage_steps * t.n_critic  # the 4x4 phase
    max_stage = max(cfg.data.resolution.bit_length() - 3, 0)  # log2(resolution) - 2
    for s, b in enumerate(sizes[1:max_stage + 1], start=1):
        if drawn % b:
            raise ConfigError(f"model.progan.batch_sizes: stage {s}'s batch {b} must divide "
                              f"the {drawn} samples drawn before it; use sizes that divide "
                              "the previous ones, e.g. 128,128,64,32,16")
        drawn += 2 * b * m.progan.stage_steps * t.n_critic



@dataclass
class ProGANConfig:
    """``model.progan.*``: the growth schedule and the batch of each stage."""

    stage_steps: int = 1000  # iterations per fade-in and per stable phase
    # global batch per stage (4x4, 8x8, ...; the last repeats); empty: train.batch_size
    batch_sizes: list[int] = field(default_factory=list)


def validate_progan(cfg: Config, device_count: int | None = None) -> None:
    """ProGAN's own config fields: a positive phase length, and per-stage batches only on a
    growing run, with the stream rules of `validate_batch_sizes`, each split evenly over
    the devices."""
    p = cfg.model.progan
    if p.stage_steps < 0 or (cfg.model.generator == "progan" and p.stage_steps == 0):
        raise ConfigError(f"model.progan.stage_steps must be a positive number of "
                          f"iterations, got {p.stage_steps}")
    if p.batch_sizes:
        validate_batch_sizes(cfg)
    if device_count is not None and any(b % device_count for b in p.batch_sizes):
        raise ConfigError(f"model.progan.batch_sizes={p.batch_sizes} must all be divisible "
                          f"by the device count {device_count}")


def progan_batch_plan(cfg: Config) -> Any:
    """`batch_plan` with per-stage batch sizes; None (round k's plain batch) without."""
    return batch_plan(cfg) if cfg.model.progan.batch_sizes else None


def final_stage_state(cfg: Config, models: Any, state: Any) -> Any:
    """`state` moved to the first step of the last stage: the stage `jaxgan bench` times,
    since XLA counts the FLOPs of a `lax.switch` as those of its costliest branch."""
    final = 2 * models.generator.max_stage * cfg.model.progan.stage_steps
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
    stage_steps = cfg.model.progan.stage_steps

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
    if not cfg.model.progan.batch_sizes:
        return stages
    local = batch["image"].shape[1]
    n = jax.lax.axis_size(axis_name) if axis_name else 1
    mine = [s for s in stages if stage_batch_size(cfg, s) == local * n]
    return mine or stages
