"""StyleGAN2's path-length regularization (Karras et al. 2020, Sec. 3.2), as the family's
contribution to the step (`ModelFamily.step_parts`): a `parts.GReg`, G's own regularizer.

For w ~ mapping(z) and y ~ N(0, I) / sqrt(H W), the penalty is
``weight * (|J_w^T y|_2 - a)^2`` with ``J_w`` the Jacobian of the synthesis network at w
(``|.|`` over each layer's w, averaged over layers: the reference's
``grads.square().sum(2).mean(1).sqrt()``) and ``a`` the running mean of that length
(decay 0.01). It is lazy: every ``model.stylegan.pl_every`` G steps, scaled by that
interval (Sec. 3.1), on ``1 / model.stylegan.pl_batch_shrink`` of the batch.

Why it lives here and not in the G module: the Jacobian is taken between two pieces of G
(`StyleGAN2Generator.styles` and `.synthesize`), with G's parameters as the input the step
differentiates; the running mean ``pl_mean`` sits in G's ``batch_stats`` beside ``w_avg``
so it is checkpointed, pmeaned and resumed with the rest of the state. Which samples take
part is chosen by their index in the global batch (every `shrink`-th), and the batch mean
of the lengths is pmeaned before it updates ``a``: the same samples and the same ``a`` on
any device count.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp

from jaxgan.parts import GReg, GRegInputs, Metrics, TrickParts
from jaxgan.schema import Config

PL_DECAY = 0.01  # the reference's pl_decay

__all__ = ["path_length_parts", "path_lengths", "PL_DECAY"]


def path_lengths(generator, variables: dict, z: jax.Array, y: jax.Array,
                 keys: jax.Array) -> jax.Array:
    """Each sample's ``|J_w^T y|`` (N,), y drawn from the sample's key."""
    ws = generator.apply(variables, z, y, True, method="styles")

    def synth(w):
        return generator.apply(variables, w, z, method="synthesize").astype(jnp.float32)

    img, vjp = jax.vjp(synth, ws)
    scale = 1.0 / math.sqrt(img.shape[1] * img.shape[2])
    noise = jax.vmap(lambda k: jax.random.normal(k, img.shape[1:]))(keys) * scale
    (grads,) = vjp(noise)  # d sum(img * noise) / d ws
    return jnp.sqrt(jnp.mean(jnp.sum(jnp.square(grads.astype(jnp.float32)), axis=2), axis=1))


def _path_length_reg(weight: float, every: int, shrink: int):
    def fn(a: GRegInputs) -> tuple[jax.Array, tuple[Metrics, dict]]:
        z, y, keys = a.z[::shrink], a.y[::shrink], a.keys()[::shrink]
        lengths = path_lengths(a.generator, {"params": a.params, "batch_stats": a.stats},
                               z, y, keys)
        old = a.stats["pl_mean"]
        # as the reference, the new mean is not detached inside the penalty (its 1 %
        # share of the batch mean is differentiated), only the stored copy is
        new = old + (a.pmean(jnp.mean(lengths)) - old) * PL_DECAY
        penalty = jnp.mean(jnp.square(lengths - new)) * weight
        kept = jax.lax.stop_gradient(new)
        stats = {**a.stats, "pl_mean": kept}
        return penalty * every, ({"pl_penalty": penalty, "pl_mean": kept}, stats)

    return fn


def path_length_parts(cfg: Config) -> TrickParts:
    """The path-length regularizer when ``model.stylegan.pl_weight`` > 0, else nothing."""
    m = cfg.model
    if m.stylegan.pl_weight <= 0:
        return TrickParts()
    every = m.stylegan.pl_every
    fn = _path_length_reg(m.stylegan.pl_weight, every, m.stylegan.pl_batch_shrink)
    return TrickParts(g_regs=(GReg(fn, every, idle=_idle),))


def _idle(stats: dict) -> Metrics:
    """Between lazy steps: no penalty, the running mean as it stands."""
    return {"pl_penalty": jnp.zeros((), jnp.float32), "pl_mean": stats["pl_mean"]}
